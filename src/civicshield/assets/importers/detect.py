"""One entry point for every inventory format: sniff the format from the content, then
preview with the matching importer. The extension is not trusted: a `.xml` file may be an
Nmap report or a CycloneDX BOM, a `.json` one CycloneDX or SPDX."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from civicshield.assets.importers._common import ImportDefaults
from civicshield.assets.importers._plan import ImportPreview
from civicshield.assets.importers.csv import preview_csv
from civicshield.assets.importers.cyclonedx import preview_cyclonedx
from civicshield.assets.importers.nmap import preview_nmap
from civicshield.assets.importers.spdx import preview_spdx
from civicshield.assets.importers.xlsx import XLSX_MAGIC, preview_xlsx
from civicshield.assets.service import Scope
from civicshield.core.errors import Invalid

__all__ = ["FORMATS", "detect_format", "preview_import"]

FORMATS = ("csv", "xlsx", "nmap", "cyclonedx", "spdx")
_SBOMS = ("cyclonedx", "spdx")
# The first element's name after the XML declaration, comments, PIs and a DOCTYPE.
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>)", re.S)
_FIRST_TAG = re.compile(rb"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def _xml_root(data: bytes) -> str | None:
    pos = 0
    while match := _SKIP.match(data, pos):
        pos = match.end()
    tag = _FIRST_TAG.match(data, pos)
    return tag.group(2).decode("ascii") if tag else None


def detect_format(data: bytes, filename: str) -> str:
    """csv, xlsx, nmap, cyclonedx or spdx, from the bytes; Invalid naming the file otherwise."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    head = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not head:
        raise Invalid(f"{filename}: the file is empty")
    if head.startswith(b"<"):
        root = _xml_root(head)
        if root == "nmaprun":
            return "nmap"
        if root == "bom":
            return "cyclonedx"
        raise Invalid(
            f"{filename}: XML with root element <{root or '?'}> is neither an Nmap report "
            "(<nmaprun>) nor a CycloneDX BOM (<bom>)"
        )
    if head.startswith((b"{", b"[")):
        sample = head[:1_000_000]
        if b'"bomFormat"' in sample:
            return "cyclonedx"
        if b'"spdxVersion"' in sample or (b'"@graph"' in sample and b"spdx" in sample.lower()):
            return "spdx"
        raise Invalid(
            f"{filename}: JSON that is neither CycloneDX (no bomFormat) nor SPDX "
            "(no spdxVersion or SPDX 3 @graph)"
        )
    if b"\x00" in head[:4096]:
        raise Invalid(f"{filename}: a binary file that is not an XLSX workbook")
    return "csv"


def preview_import(
    session: Session,
    *,
    data: bytes,
    filename: str,
    scope: Scope,
    fmt: str | None = None,
    defaults: ImportDefaults | None = None,
    target_asset_id: int | None = None,
) -> ImportPreview:
    """Say what importing `data` would do, in any supported format; writes nothing.

    `defaults` (sector, zone, kind, criticality) apply to assets an Nmap or SBOM import
    creates; `target_asset_id` attaches an SBOM's components to that asset."""
    if fmt is not None and fmt not in FORMATS:
        raise Invalid(f"{filename}: unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    found = fmt or detect_format(data, filename)
    if target_asset_id is not None and found not in _SBOMS:
        raise Invalid(
            f"{filename}: a target asset applies to SBOM imports (CycloneDX, SPDX), not to {found}"
        )
    if found == "csv":
        preview = preview_csv(session, data, source=filename, scope=scope)
    elif found == "xlsx":
        preview = preview_xlsx(session, data, source=filename, scope=scope)
    elif found == "nmap":
        return preview_nmap(session, data, source=filename, scope=scope, defaults=defaults)
    else:
        sbom = preview_cyclonedx if found == "cyclonedx" else preview_spdx
        return sbom(
            session,
            data,
            source=filename,
            scope=scope,
            defaults=defaults,
            target_asset_id=target_asset_id,
        )
    if defaults is not None and defaults.model_dump(exclude_none=True):
        note = "defaults are not used for spreadsheets: the template has those columns"
        preview = preview.model_copy(update={"notes": [*preview.notes, note]})
    return preview
