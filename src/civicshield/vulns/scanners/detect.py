"""Sniff a scanner output's format from its content and dispatch to the right parser."""

from __future__ import annotations

from typing import Any

from civicshield.vulns.scanners._common import load_json, load_xml, local
from civicshield.vulns.scanners.cyclonedx_vex import parse_cyclonedx, xml_to_dict
from civicshield.vulns.scanners.grype import parse_grype
from civicshield.vulns.scanners.model import ScanError, ScanReport
from civicshield.vulns.scanners.nmap_vulners import parse_nmap
from civicshield.vulns.scanners.openvas import parse_openvas_csv, parse_openvas_xml
from civicshield.vulns.scanners.trivy import parse_trivy
from civicshield.vulns.scanners.wazuh import parse_wazuh

__all__ = ["FORMATS", "parse_scan", "sniff_json", "sniff_xml"]

FORMATS = (
    "cyclonedx-json",
    "cyclonedx-xml",
    "grype-json",
    "nmap-xml",
    "openvas-csv",
    "openvas-xml",
    "trivy-json",
    "wazuh-json",
)


def sniff_json(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    if doc.get("bomFormat") == "CycloneDX":
        return "cyclonedx-json"
    if isinstance(doc.get("matches"), list) and ("descriptor" in doc or "source" in doc):
        return "grype-json"
    if "SchemaVersion" in doc and ("Results" in doc or "ArtifactName" in doc):
        return "trivy-json"
    if isinstance(doc.get("hits"), dict) and isinstance(doc["hits"].get("hits"), list):
        return "wazuh-json"
    if isinstance(doc.get("data"), dict) and "affected_items" in doc["data"]:
        return "wazuh-json"
    return None


def sniff_xml(tag: str, namespace: str) -> str | None:
    if tag == "nmaprun":
        return "nmap-xml"
    if tag == "report":
        return "openvas-xml"
    if tag == "bom" and namespace.startswith("http://cyclonedx.org/schema/bom/"):
        return "cyclonedx-xml"
    return None


def parse_scan(data: bytes, *, source: str, fmt: str | None = None) -> ScanReport:
    """Parse one scanner output. Unknown or corrupt input raises ScanError naming the place;
    single bad records are reported in `ScanReport.problems`."""
    if fmt is not None and fmt not in FORMATS:
        raise ScanError(source, None, f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    family = (
        fmt.rsplit("-", 1)[1] if fmt else {b"{": "json", b"[": "json", b"<": "xml"}.get(head, "csv")
    )
    if family == "json":
        doc = load_json(data, source)
        found = sniff_json(doc)
        if found is None or (fmt and found != fmt):
            raise ScanError(source, None, _mismatch(fmt, found, "JSON"))
        if found == "grype-json":
            return parse_grype(doc, source=source)
        if found == "trivy-json":
            return parse_trivy(doc, source=source)
        if found == "wazuh-json":
            return parse_wazuh(doc, source=source)
        return parse_cyclonedx(doc, source=source)
    if family == "xml":
        root = load_xml(data, source)
        tag = root.tag if isinstance(root.tag, str) else ""
        namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
        found = sniff_xml(local(tag), namespace)
        if found is None or (fmt and found != fmt):
            raise ScanError(source, "line 1", _mismatch(fmt, found, f"XML <{local(tag)}>"))
        if found == "nmap-xml":
            return parse_nmap(root, source=source)
        if found == "openvas-xml":
            return parse_openvas_xml(root, source=source)
        return parse_cyclonedx(xml_to_dict(root), source=source, fmt="cyclonedx-xml")
    return parse_openvas_csv(_decode(data, source), source=source)


def _mismatch(fmt: str | None, found: str | None, what: str) -> str:
    if fmt and found:
        return f"asked for {fmt} but the content is {found}"
    return f"unknown scanner format ({what} not recognised); known: {', '.join(FORMATS)}"


def _decode(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScanError(source, f"byte {exc.start}", "not UTF-8 text") from None
    first = text.split("\n", 1)[0]
    if "NVT OID" not in first and "NVT Name" not in first:
        raise ScanError(source, "line 1", f"unknown scanner format; known: {', '.join(FORMATS)}")
    return text
