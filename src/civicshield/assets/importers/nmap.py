"""Nmap XML (`nmap -oX`) import: one row per host that is up.

A host gives the asset's addresses (IPv4/IPv6, MAC), host names and, for a new asset, the
best OS match's CPE (Nmap writes CPE 2.2 URIs; stored as CPE 2.3). Each open port's service
becomes a software item of kind `service` keyed `service:<protocol>/<port>`, so a rescan that
finds a new version changes the item instead of adding one; the best OS match is an item keyed `os`.
Stored addresses and names the scan did not see are kept (a scan sees one side of a host).
Hosts that are down are skipped and counted. Default sector, zone, kind and criticality apply
only to assets the scan creates, as does the MAC vendor (the NIC maker, not the product's).
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from sqlalchemy.orm import Session

from civicshield.assets._cpe import cpe22_to_23
from civicshield.assets._normalise import normalise_hostname, normalise_ip, normalise_mac
from civicshield.assets.importers._common import ImportDefaults, XmlDoc, load_xml, software_item
from civicshield.assets.importers._plan import (
    ImportPreview,
    Matcher,
    RowError,
    RowOptions,
    RowPlan,
    plan_row,
)
from civicshield.assets.schemas import SoftwareItem
from civicshield.assets.service import Scope
from civicshield.core.errors import Invalid

__all__ = ["SOURCE", "preview_nmap"]

SOURCE = "nmap"
_COLUMNS = ["ips", "macs", "hostnames", "cpe", "software"]


def _cpe23(text: str | None) -> str | None:
    if not text:
        return None
    return cpe22_to_23(text) if text.strip().lower().startswith("cpe:/") else text.strip()


def _identifiers(host: Element, line: int, warnings: list[RowError]) -> tuple[dict[str, Any], str]:
    values: dict[str, list[str]] = {"ips": [], "macs": [], "hostnames": []}
    mac_vendor = ""
    for i, address in enumerate(host.findall("address")):
        kind, addr = address.get("addrtype", ""), address.get("addr", "")
        try:
            if kind in ("ipv4", "ipv6"):
                values["ips"].append(normalise_ip(addr))
            elif kind == "mac":
                values["macs"].append(normalise_mac(addr))
                mac_vendor = mac_vendor or address.get("vendor", "")
        except ValueError as exc:
            where = f"host/address[{i + 1}]"
            column = "ips" if kind != "mac" else "macs"
            warnings.append(
                RowError(line=line, column=column, message=f"{exc} (skipped)", where=where)
            )
    for i, hostname in enumerate(host.findall("hostnames/hostname")):
        try:
            values["hostnames"].append(normalise_hostname(hostname.get("name", "")))
        except ValueError as exc:
            where = f"host/hostnames/hostname[{i + 1}]"
            warnings.append(
                RowError(line=line, column="hostnames", message=f"{exc} (skipped)", where=where)
            )
    return {k: v for k, v in values.items() if v}, mac_vendor


def _services(doc: XmlDoc, host: Element, warnings: list[RowError]) -> list[SoftwareItem]:
    items: list[SoftwareItem] = []
    for port in host.findall("ports/port"):
        state = port.find("state")
        service = port.find("service")
        if state is None or state.get("state") != "open" or service is None:
            continue
        line = doc.line(port)
        protocol, number = port.get("protocol", "tcp"), port.get("portid", "")
        where = f"port {protocol}/{number}"
        cpes: list[str] = []
        for cpe in service.findall("cpe"):
            try:
                converted = _cpe23(cpe.text)
            except ValueError as exc:
                warnings.append(RowError(line=line, column="cpe", message=str(exc), where=where))
                continue
            if converted:
                cpes.append(converted)
        # An application CPE names the service better than an OS or hardware one.
        cpes.sort(key=lambda c: c.split(":")[2] != "a")
        vendor = cpes[0].split(":")[3] if cpes else ""
        item = software_item(
            {
                "key": f"service:{protocol}/{number}",
                "kind": "service",
                "vendor": vendor,
                "name": service.get("product") or service.get("name"),
                "version": service.get("version"),
                "cpe": cpes[0] if cpes else None,
            },
            line=line,
            where=where,
            warnings=warnings,
        )
        if item is not None:
            items.append(item)
    return items


def _os(
    host: Element, line: int, warnings: list[RowError]
) -> tuple[str | None, SoftwareItem | None]:
    matches = host.findall("os/osmatch")
    if not matches:
        return None, None
    best = max(matches, key=lambda m: int(m.get("accuracy", "0") or 0))
    cpe: str | None = None
    for element in best.findall("osclass/cpe"):
        try:
            cpe = _cpe23(element.text)
        except ValueError as exc:
            warnings.append(RowError(line=line, column="cpe", message=str(exc), where="host/os"))
            continue
        if cpe:
            break
    vendor = cpe.split(":")[3] if cpe else ""
    item = software_item(
        {
            "key": "os",
            "kind": "operating-system",
            "vendor": vendor,
            "name": best.get("name"),
            "cpe": cpe,
        },
        line=line,
        where="host/os/osmatch",
        warnings=warnings,
    )
    return cpe, item


def preview_nmap(
    session: Session,
    data: bytes,
    *,
    source: str = "<upload>",
    scope: Scope = None,
    defaults: ImportDefaults | None = None,
) -> ImportPreview:
    """Parse an Nmap XML report and say what importing it would do; writes nothing."""
    doc = load_xml(data, source)
    if doc.root.tag != "nmaprun":
        raise Invalid(f"{source}: not an Nmap XML report (root element <{doc.root.tag}>)")
    create = (defaults or ImportDefaults()).create_values()
    matcher = Matcher.load(session)
    rows: list[RowPlan] = []
    down = 0
    for host in doc.root.findall("host"):
        status = host.find("status")
        if status is None or status.get("state") != "up":
            down += 1
            continue
        line = doc.line(host)
        warnings: list[RowError] = []
        values, mac_vendor = _identifiers(host, line, warnings)
        os_cpe, os_item = _os(host, line, warnings)
        software = _services(doc, host, warnings)
        if os_item is not None:
            software.append(os_item)
        options = RowOptions(
            create_values={
                **create,
                **({"vendor": mac_vendor} if mac_vendor else {}),
                # A stored CPE may be more precise (firmware) than an OS guess: new assets only.
                **({"cpe": os_cpe} if os_cpe else {}),
            },
            merge_lists=True,
            software=software,
            software_source=SOURCE,
            warnings=warnings,
        )
        rows.append(plan_row(session, matcher, line, values, scope, options))
    notes = [f"{down} host(s) down, skipped"] if down else []
    return ImportPreview(
        source=source,
        format="nmap",
        columns=_COLUMNS,
        ignored_columns=[],
        rows=rows,
        skipped=down,
        notes=notes,
    )
