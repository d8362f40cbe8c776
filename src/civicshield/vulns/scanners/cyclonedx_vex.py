"""CycloneDX (JSON 1.2-1.6 and XML 1.4+) `vulnerabilities[]` with `affects` and `analysis`.

Each vulnerability with an `analysis.state` yields a VexStatement per affected ref. Entries
without analysis, or whose state still says the product may be affected (`in_triage`,
`exploitable`), also yield findings (one per affected component and CVE): that is what a
scanner-made SBOM (Grype, Snyk) carries. `not_affected`, `false_positive` and `resolved*`
entries yield no finding.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from packageurl import PackageURL

from civicshield.vulns.scanners._common import (
    RecordError,
    items,
    local,
    mapping,
    number,
    pick_cvss,
    severity,
    split_ids,
    strings,
    text,
)
from civicshield.vulns.scanners.model import (
    VEX_STATES,
    ComponentRef,
    Problem,
    ScanFinding,
    ScanReport,
    VexStatement,
)

__all__ = ["parse_cyclonedx", "xml_to_dict"]

# ratings[].method -> CVSS version; other methods (OWASP, SSVC, other) carry no CVSS.
_METHODS = {"CVSSv4": "4.0", "CVSSv31": "3.1", "CVSSv3": "3.0", "CVSSv2": "2.0"}
_FINDING_STATES = (None, "in_triage", "exploitable")


def parse_cyclonedx(doc: dict[str, Any], *, source: str, fmt: str = "cyclonedx-json") -> ScanReport:
    problems: list[Problem] = []
    components: dict[str, ComponentRef] = {}
    meta: dict[str, Any] = doc["metadata"] if isinstance(doc.get("metadata"), dict) else {}
    subject = _component(meta.get("component"), components) if meta.get("component") else None
    stack = (
        [c for c in doc.get("components") or [] if isinstance(c, dict)]
        if isinstance(doc.get("components"), list)
        else []
    )
    while stack:
        raw = stack.pop()
        _component(raw, components)
        if isinstance(raw.get("components"), list):
            stack.extend(c for c in raw["components"] if isinstance(c, dict))
    tools = _tools(meta.get("tools"))
    findings: list[ScanFinding] = []
    vex: list[VexStatement] = []
    vulns = doc.get("vulnerabilities")
    if vulns is not None and not isinstance(vulns, list):
        problems.append(Problem(f"{source}: $.vulnerabilities", "expected a list"))
        vulns = []
    for index, raw in enumerate(vulns or []):
        where = f"{source}: $.vulnerabilities[{index}]"
        try:
            _vulnerability(
                mapping(raw, "vulnerability"), components, subject, tools, where, findings, vex
            )
        except RecordError as exc:
            problems.append(Problem(where, str(exc)))
    return ScanReport(
        tool="cyclonedx",
        format=fmt,
        source=source,
        findings=findings,
        vex=vex,
        problems=problems,
        subject=subject,
    )


def _component(raw: object, index: dict[str, ComponentRef]) -> ComponentRef | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        return None
    group = raw.get("group") if isinstance(raw.get("group"), str) else None
    ref = ComponentRef(
        name=f"{group}/{raw['name']}" if group else raw["name"],
        version=raw.get("version") if isinstance(raw.get("version"), str) else None,
        purl=raw.get("purl") if isinstance(raw.get("purl"), str) else None,
        cpe=raw.get("cpe") if isinstance(raw.get("cpe"), str) else None,
        kind=raw.get("type") if isinstance(raw.get("type"), str) else None,
    )
    if isinstance(raw.get("bom-ref"), str):
        index[raw["bom-ref"]] = ref
    return ref


def _tools(value: object) -> list[str]:
    # 1.4: a list of tools; 1.5+: {"components": [...], "services": [...]}.
    listed = value.get("components", []) if isinstance(value, dict) else value
    if not isinstance(listed, list):
        return []
    return [t["name"] for t in listed if isinstance(t, dict) and isinstance(t.get("name"), str)]


def _resolve(ref: str, components: dict[str, ComponentRef]) -> ComponentRef | None:
    # A BOM-Link (urn:cdx:serial/version#bom-ref) points into another BOM: use its fragment.
    key = ref.split("#", 1)[1] if ref.startswith("urn:cdx:") and "#" in ref else ref
    if key in components:
        return components[key]
    if key.startswith("pkg:"):
        try:
            purl = PackageURL.from_string(key)
        except ValueError:
            return None
        name = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
        return ComponentRef(name=name, version=purl.version, purl=key, kind=purl.type)
    return None


def _vulnerability(
    vuln: dict[str, Any],
    components: dict[str, ComponentRef],
    subject: ComponentRef | None,
    tools: list[str],
    where: str,
    findings: list[ScanFinding],
    vex: list[VexStatement],
) -> None:
    vid = text(vuln, "id")
    if vid is None:
        raise RecordError("vulnerability without id")
    refs = [
        text(mapping(r, "references[]"), "id") for r in items(vuln.get("references"), "references")
    ]
    ratings = [mapping(r, "ratings[]") for r in items(vuln.get("ratings"), "ratings")]
    cvss = [
        (_METHODS.get(text(r, "method") or ""), text(r, "vector"), number(r, "score"))
        for r in ratings
    ]
    vector, score = pick_cvss(c for c in cvss if c[0])
    rank = {"4.0": 4, "3.1": 3, "3.0": 2, "2.0": 1}
    by_method = sorted(
        ratings, key=lambda r: -rank.get(_METHODS.get(text(r, "method") or "", ""), 0)
    )
    sev = next((s for r in by_method if (s := severity(r.get("severity")))), None)
    analysis = mapping(vuln.get("analysis"), "analysis")
    state = text(analysis, "state")
    if state is not None and state not in VEX_STATES:
        raise RecordError(f"analysis.state {state!r} is not a CycloneDX state")
    affects = [text(mapping(a, "affects[]"), "ref") for a in items(vuln.get("affects"), "affects")]
    targets: list[tuple[str | None, ComponentRef | None]] = [
        (r, _resolve(r, components)) for r in affects if r
    ]
    source = mapping(vuln.get("source"), "source")
    ids = split_ids([vid, *(r for r in refs if r)])
    if state is not None:
        for head, _aliases in ids:
            for bom_ref, comp in targets or [(None, subject)]:
                vex.append(
                    VexStatement(
                        vuln_id=head,
                        component=comp,
                        bom_ref=bom_ref,
                        state=state,
                        justification=text(analysis, "justification"),
                        detail=text(analysis, "detail"),
                        response=strings(analysis.get("response"), "analysis.response"),
                        location=where,
                    )
                )
    if state not in _FINDING_STATES:
        return
    detail = {
        "source": text(source, "name"),
        "source_url": text(source, "url"),
        "analysis_state": state,
        "description": text(vuln, "description"),
        "recommendation": text(vuln, "recommendation"),
        "cwes": list(strings(vuln.get("cwes"), "cwes")) or None,
        "producer": tools or None,
    }
    for head, aliases in ids:
        for bom_ref, comp in targets or [(None, subject)]:
            findings.append(
                ScanFinding(
                    tool="cyclonedx",
                    vuln_id=head,
                    aliases=aliases,
                    host=None,
                    component=comp,
                    severity=sev,
                    cvss_vector=vector,
                    cvss_score=score,
                    epss=None,
                    epss_percentile=None,
                    fix_versions=(),
                    tool_ref=text(vuln, "bom-ref"),
                    title=f"{head} in {comp.name if comp else bom_ref or 'the product'}",
                    detail={
                        k: v for k, v in {**detail, "bom_ref": bom_ref}.items() if v is not None
                    },
                    location=where,
                )
            )


def _kids(el: Element, name: str) -> list[Element]:
    return [c for c in el if local(c.tag) == name]


def _t(el: Element, name: str) -> str | None:
    found = _kids(el, name)
    return (found[0].text or "").strip() or None if found else None


def xml_to_dict(root: Element) -> dict[str, Any]:
    """The parts of a CycloneDX XML BOM we read, in the JSON shape (names as in the JSON schema)."""

    def comp(el: Element) -> dict[str, Any]:
        out: dict[str, Any] = {k: _t(el, k) for k in ("name", "version", "group", "purl", "cpe")}
        out["type"] = el.get("type")
        out["bom-ref"] = el.get("bom-ref")
        out["components"] = [
            comp(c) for w in _kids(el, "components") for c in _kids(w, "component")
        ]
        return out

    def vuln(el: Element) -> dict[str, Any]:
        def first(name: str) -> Element | None:
            found = _kids(el, name)
            return found[0] if found else None

        analysis, source = first("analysis"), first("source")
        return {
            "bom-ref": el.get("bom-ref"),
            "id": _t(el, "id"),
            "source": {"name": _t(source, "name"), "url": _t(source, "url")}
            if source is not None
            else None,
            "references": [
                {"id": _t(r, "id")} for w in _kids(el, "references") for r in _kids(w, "reference")
            ],
            "ratings": [
                {k: _t(r, k) for k in ("score", "severity", "method", "vector")}
                for w in _kids(el, "ratings")
                for r in _kids(w, "rating")
            ],
            "cwes": [c.text for w in _kids(el, "cwes") for c in _kids(w, "cwe") if c.text],
            "description": _t(el, "description"),
            "recommendation": _t(el, "recommendation"),
            "analysis": None
            if analysis is None
            else {
                "state": _t(analysis, "state"),
                "justification": _t(analysis, "justification"),
                "detail": _t(analysis, "detail"),
                "response": [
                    r.text
                    for w in _kids(analysis, "responses")
                    for r in _kids(w, "response")
                    if r.text
                ],
            },
            "affects": [
                {"ref": _t(t, "ref")} for w in _kids(el, "affects") for t in _kids(w, "target")
            ],
        }

    meta = _kids(root, "metadata")
    meta_comp = _kids(meta[0], "component") if meta else []
    return {
        "metadata": {"component": comp(meta_comp[0])} if meta_comp else {},
        "components": [comp(c) for w in _kids(root, "components") for c in _kids(w, "component")],
        "vulnerabilities": [
            vuln(v) for w in _kids(root, "vulnerabilities") for v in _kids(w, "vulnerability")
        ],
    }
