"""SPDX import: SPDX 2.x JSON and SPDX 3.0 JSON-LD.

SPDX 2.x: the package the document describes (`documentDescribes`, or a DESCRIBES
relationship from the document) is the asset; every other package is a software item, with its
purl and CPE from `externalRefs` (`purl`, `cpe23Type`, `cpe22Type` converted), vendor from
`supplier`/`originator`, kind from `primaryPackagePurpose` (default library).
SPDX 3.0: the root element of the `SpdxDocument` (through a `software_Sbom` when the root is
one) is the asset; other `software_Package` and `software_File` elements are software items,
identifiers from `software_packageUrl` and `externalIdentifier` (`purl`, `cpe23`, `cpe22`).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from civicshield.assets._cpe import cpe22_to_23
from civicshield.assets.importers._common import ImportDefaults, load_json, software_item
from civicshield.assets.importers._plan import ImportPreview, RowError
from civicshield.assets.importers._sbom import sbom_preview
from civicshield.assets.schemas import SoftwareItem
from civicshield.assets.service import Scope
from civicshield.core.errors import Invalid

__all__ = ["is_spdx", "preview_spdx"]

_PARTY = re.compile(r"^\s*(?:Organization|Person|Tool)\s*:\s*(.*?)\s*(?:\([^)]*\))?\s*$")
_SPDX3_TYPES = {"software_Package": "library", "software_File": "file"}


def is_spdx(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    if str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        return True
    context = doc.get("@context")
    return "@graph" in doc and "spdx" in str(context).lower()


def _party(value: Any) -> str | None:
    if not isinstance(value, str) or value.upper() == "NOASSERTION":
        return None
    match = _PARTY.match(value)
    return match.group(1) if match else value


def _cpe(value: str, warnings: list[RowError], where: str) -> str | None:
    try:
        return cpe22_to_23(value) if value.lower().startswith("cpe:/") else value
    except ValueError as exc:
        warnings.append(RowError(line=1, column="cpe", message=str(exc), where=where))
        return None


def _spdx2_item(pkg: dict[str, Any], where: str, warnings: list[RowError]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": str(pkg.get("primaryPackagePurpose") or "library").lower(),
        "vendor": _party(pkg.get("supplier")) or _party(pkg.get("originator")),
        "name": pkg.get("name"),
        "version": pkg.get("versionInfo"),
    }
    refs: list[Any] = pkg["externalRefs"] if isinstance(pkg.get("externalRefs"), list) else []
    for i, ref in enumerate(refs):
        if not isinstance(ref, dict) or not isinstance(ref.get("referenceLocator"), str):
            continue
        kind, locator = ref.get("referenceType"), ref["referenceLocator"]
        if kind == "purl":
            values.setdefault("purl", locator)
        elif kind in ("cpe23Type", "cpe22Type") and "cpe" not in values:
            values["cpe"] = _cpe(locator, warnings, f"{where}.externalRefs[{i}]")
    return values


def _spdx2(doc: dict[str, Any]) -> tuple[dict[str, Any] | None, list[SoftwareItem], list[RowError]]:
    warnings: list[RowError] = []
    packages: list[Any] = doc["packages"] if isinstance(doc.get("packages"), list) else []
    described = list(doc.get("documentDescribes") or [])
    doc_id = doc.get("SPDXID", "SPDXRef-DOCUMENT")
    for rel in doc.get("relationships") or []:
        if not isinstance(rel, dict):
            continue
        if rel.get("spdxElementId") == doc_id and rel.get("relationshipType") == "DESCRIBES":
            described.append(rel.get("relatedSpdxElement"))
        elif rel.get("relatedSpdxElement") == doc_id and rel.get("relationshipType") == (
            "DESCRIBED_BY"
        ):
            described.append(rel.get("spdxElementId"))
    root_id = next((d for d in described if isinstance(d, str)), None)
    root: dict[str, Any] | None = None
    software: list[SoftwareItem] = []
    for i, pkg in enumerate(packages):
        where = f"$.packages[{i}]"
        if not isinstance(pkg, dict):
            warnings.append(RowError(line=1, column=None, message="not an object", where=where))
            continue
        values = _spdx2_item(pkg, where, warnings)
        if root is None and pkg.get("SPDXID") == root_id:
            root = {**values, "type": values["kind"]}
            continue
        item = software_item(values, line=1, where=where, warnings=warnings)
        if item is not None:
            software.append(item)
    return root, software, warnings


def _spdx3(doc: dict[str, Any]) -> tuple[dict[str, Any] | None, list[SoftwareItem], list[RowError]]:
    warnings: list[RowError] = []
    graph: list[Any] = doc["@graph"] if isinstance(doc.get("@graph"), list) else []
    by_id = {e.get("spdxId"): e for e in graph if isinstance(e, dict) and e.get("spdxId")}
    root_id: Any = None
    for element in graph:
        if isinstance(element, dict) and element.get("type") == "SpdxDocument":
            root_id = next(iter(element.get("rootElement") or []), None)
            break
    if isinstance(by_id.get(root_id), dict) and by_id[root_id].get("type") == "software_Sbom":
        root_id = next(iter(by_id[root_id].get("rootElement") or []), None)
    root: dict[str, Any] | None = None
    software: list[SoftwareItem] = []
    for i, element in enumerate(graph):
        if not isinstance(element, dict) or element.get("type") not in _SPDX3_TYPES:
            continue
        where = f"$['@graph'][{i}]"
        supplier = by_id.get(element.get("suppliedBy"))
        origins = element.get("originatedBy") or []
        origin = by_id.get(origins[0]) if isinstance(origins, list) and origins else None
        party = supplier or origin
        values: dict[str, Any] = {
            "kind": str(
                element.get("software_primaryPurpose") or _SPDX3_TYPES[element["type"]]
            ).lower(),
            "vendor": party.get("name") if isinstance(party, dict) else None,
            "name": element.get("name"),
            "version": element.get("software_packageVersion"),
            "purl": element.get("software_packageUrl"),
        }
        for j, ident in enumerate(element.get("externalIdentifier") or []):
            if not isinstance(ident, dict) or not isinstance(ident.get("identifier"), str):
                continue
            kind, value = ident.get("externalIdentifierType"), ident["identifier"]
            if kind == "purl" and not values.get("purl"):
                values["purl"] = value
            elif kind in ("cpe23", "cpe22") and not values.get("cpe"):
                values["cpe"] = _cpe(value, warnings, f"{where}.externalIdentifier[{j}]")
        if root is None and element.get("spdxId") == root_id:
            root = {**values, "type": values["kind"]}
            continue
        item = software_item(values, line=1, where=where, warnings=warnings)
        if item is not None:
            software.append(item)
    return root, software, warnings


def preview_spdx(
    session: Session,
    data: bytes,
    *,
    source: str = "<upload>",
    scope: Scope = None,
    defaults: ImportDefaults | None = None,
    target_asset_id: int | None = None,
) -> ImportPreview:
    """Parse an SPDX 2.x JSON or 3.0 JSON-LD document and say what importing it would do."""
    doc = load_json(data, source)
    if not is_spdx(doc):
        raise Invalid(f"{source}: not an SPDX JSON document (no $.spdxVersion or SPDX @context)")
    root, software, warnings = _spdx2(doc) if "spdxVersion" in doc else _spdx3(doc)
    return sbom_preview(
        session,
        fmt="spdx",
        source=source,
        scope=scope,
        defaults=defaults,
        target_asset_id=target_asset_id,
        root={k: v for k, v in (root or {}).items() if isinstance(v, str) and v},
        software=software,
        warnings=warnings,
    )
