"""CycloneDX import (JSON or XML, spec 1.0-1.6; SBOMs and hardware BOMs).

`metadata.component` is the asset; every other component, nested ones included, becomes a
software item: kind from the component `type` (library, firmware, device, …), vendor from
`supplier`, else `manufacturer`, `publisher` or `group`, with its purl and CPE. A document with
vulnerabilities but no components is a VEX, not an inventory: it is refused with a pointer to
`civicshield vulns import`.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

from sqlalchemy.orm import Session

from civicshield.assets.importers._common import (
    ImportDefaults,
    XmlDoc,
    load_json,
    load_xml,
    local,
    software_item,
)
from civicshield.assets.importers._plan import ImportPreview, RowError
from civicshield.assets.importers._sbom import sbom_preview
from civicshield.assets.schemas import SoftwareItem
from civicshield.assets.service import Scope
from civicshield.core.errors import Invalid

__all__ = ["preview_cyclonedx"]

_TEXT = ("type", "name", "version", "group", "publisher", "purl", "cpe")


def _vendor(component: dict[str, Any]) -> str | None:
    for key in ("supplier", "manufacturer"):
        party = component.get(key)
        if isinstance(party, dict) and isinstance(party.get("name"), str) and party["name"]:
            return str(party["name"])
    for key in ("publisher", "author", "group"):
        value = component.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _from_xml(doc: XmlDoc, element: Element) -> dict[str, Any]:
    """A <component> as the JSON shape (only the fields the import reads), plus its line."""
    out: dict[str, Any] = {"type": element.get("type"), "_line": doc.line(element)}
    for child in element:
        tag = local(child.tag)
        if tag in _TEXT:
            out[tag] = (child.text or "").strip()
        elif tag in ("supplier", "manufacturer"):
            name = next((c for c in child if local(c.tag) == "name"), None)
            out[tag] = {"name": (name.text or "").strip() if name is not None else ""}
        elif tag == "components":
            out["components"] = [_from_xml(doc, c) for c in child if local(c.tag) == "component"]
    return out


def _xml_bom(doc: XmlDoc, source: str) -> dict[str, Any]:
    if local(doc.root.tag) != "bom":
        raise Invalid(f"{source}: not a CycloneDX BOM (root element <{local(doc.root.tag)}>)")
    bom: dict[str, Any] = {}
    for child in doc.root:
        tag = local(child.tag)
        if tag == "metadata":
            meta = next((c for c in child if local(c.tag) == "component"), None)
            bom["metadata"] = {"component": _from_xml(doc, meta)} if meta is not None else {}
        elif tag == "components":
            bom["components"] = [_from_xml(doc, c) for c in child if local(c.tag) == "component"]
        elif tag == "vulnerabilities":
            bom["vulnerabilities"] = list(child)
    return bom


def _walk(
    components: Any, path: str, warnings: list[RowError], out: list[SoftwareItem], root_ref: Any
) -> None:
    if not isinstance(components, list):
        warnings.append(RowError(line=1, column=None, message="not a list", where=path))
        return
    for i, component in enumerate(components):
        where = f"{path}[{i}]"
        if not isinstance(component, dict):
            warnings.append(RowError(line=1, column=None, message="not an object", where=where))
            continue
        line = int(component.get("_line", 1))
        if root_ref is None or component.get("bom-ref") != root_ref:
            item = software_item(
                {
                    "kind": component.get("type") or "library",
                    "vendor": _vendor(component),
                    "name": component.get("name"),
                    "version": component.get("version"),
                    "purl": component.get("purl"),
                    "cpe": component.get("cpe"),
                },
                line=line,
                where=where,
                warnings=warnings,
            )
            if item is not None:
                out.append(item)
        if "components" in component:
            _walk(component["components"], f"{where}.components", warnings, out, root_ref)


def preview_cyclonedx(
    session: Session,
    data: bytes,
    *,
    source: str = "<upload>",
    scope: Scope = None,
    defaults: ImportDefaults | None = None,
    target_asset_id: int | None = None,
) -> ImportPreview:
    """Parse a CycloneDX BOM and say what importing it would do; writes nothing."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        bom = _xml_bom(load_xml(data, source), source)
    else:
        bom = load_json(data, source)
        if not isinstance(bom, dict) or bom.get("bomFormat") != "CycloneDX":
            raise Invalid(f'{source}: not a CycloneDX BOM ($.bomFormat is not "CycloneDX")')
    components = bom.get("components") or []
    if not components and bom.get("vulnerabilities"):
        raise Invalid(
            f"{source}: this CycloneDX document is a VEX (vulnerabilities, no components), not "
            "an inventory: import it as scanner findings with `civicshield vulns import`"
        )
    metadata = bom.get("metadata") if isinstance(bom.get("metadata"), dict) else {}
    root = metadata.get("component") if isinstance(metadata, dict) else None
    warnings: list[RowError] = []
    software: list[SoftwareItem] = []
    root_ref = root.get("bom-ref") if isinstance(root, dict) else None
    _walk(components, "$.components", warnings, software, root_ref)
    described = None
    if isinstance(root, dict):
        described = {
            "type": root.get("type"),
            "name": root.get("name"),
            "vendor": _vendor(root),
            "version": root.get("version"),
            "purl": root.get("purl"),
            "cpe": root.get("cpe"),
        }
        if isinstance(root.get("components"), list):
            _walk(root["components"], "$.metadata.component.components", warnings, software, None)
    return sbom_preview(
        session,
        fmt="cyclonedx",
        source=source,
        scope=scope,
        defaults=defaults,
        target_asset_id=target_asset_id,
        root={k: v for k, v in (described or {}).items() if isinstance(v, str) and v},
        software=software,
        warnings=warnings,
        line=int(root.get("_line", 1)) if isinstance(root, dict) else 1,
    )
