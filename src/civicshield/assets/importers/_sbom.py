"""What CycloneDX and SPDX imports share: one row per document, for the asset the document
describes, carrying the document's components as software items."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicshield.assets.enums import AssetKind
from civicshield.assets.importers._common import ImportDefaults
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

__all__ = ["sbom_preview"]

_COLUMNS = ["name", "vendor", "product", "version", "cpe", "purl", "software"]
_DEVICE_TYPES = frozenset({"device", "firmware", "hardware"})


def sbom_preview(
    session: Session,
    *,
    fmt: str,
    source: str,
    scope: Scope,
    defaults: ImportDefaults | None,
    target_asset_id: int | None,
    root: dict[str, Any] | None,
    software: list[SoftwareItem],
    warnings: list[RowError],
    line: int = 1,
) -> ImportPreview:
    """`root` holds the described component's name, vendor, version, purl, cpe and type.

    With a target asset the SBOM only sets that asset's software. Otherwise the root is matched
    by package URL (without version); a match gets the root's version and identifiers, a new
    asset also its name, vendor and product, plus the caller's defaults."""
    root = root or {}
    kind = AssetKind.IOT if root.get("type") in _DEVICE_TYPES else AssetKind.IT
    create = (defaults or ImportDefaults()).create_values(kind=kind)
    values: dict[str, Any] = {}
    if target_asset_id is None:
        values = {k: root[k] for k in ("version", "purl", "cpe") if root.get(k)}
        create.update(
            {
                k: v
                for k, v in (
                    ("name", root.get("name")),
                    ("vendor", root.get("vendor")),
                    ("product", root.get("name")),
                )
                if v
            }
        )
    name = root.get("name") or ""
    options = RowOptions(
        create_values=create,
        match_purl=root.get("purl") if target_asset_id is None else None,
        target_asset_id=target_asset_id,
        software=software,
        software_source=f"{fmt}:{name}"[:300] if name else fmt,
        warnings=warnings,
    )
    if target_asset_id is None and not root.get("purl"):
        what = f"the described component {name!r}" if name else "the document"
        message = (
            f"{what} has no package URL to match an asset on "
            "(describe the asset with a purl, or pass a target asset id)"
        )
        error = RowError(line=line, column="purl", message=message)
        row = RowPlan(line=line, action="error", errors=[error], warnings=warnings)
    else:
        row = plan_row(session, Matcher.load(session), line, values, scope, options)
    return ImportPreview(
        source=source, format=fmt, columns=_COLUMNS, ignored_columns=[], rows=[row]
    )
