"""The city's inventory: assets by sector and zone, their change history, and importers."""

from civicshield.assets.enums import CRITICALITY_LABELS, AssetKind, Lifecycle, criticality_label
from civicshield.assets.importers import (
    TEMPLATE_COLUMNS,
    ImportPreview,
    RowError,
    RowPlan,
    apply,
    preview_csv,
    template_csv,
)
from civicshield.assets.schemas import (
    AssetChangeRead,
    AssetCreate,
    AssetDetail,
    AssetFilter,
    AssetPage,
    AssetRead,
    AssetUpdate,
)
from civicshield.assets.service import (
    create_asset,
    get_asset,
    get_asset_detail,
    list_assets,
    retire_asset,
    scope_of,
    update_asset,
)

__all__ = [
    "CRITICALITY_LABELS",
    "TEMPLATE_COLUMNS",
    "AssetChangeRead",
    "AssetCreate",
    "AssetDetail",
    "AssetFilter",
    "AssetKind",
    "AssetPage",
    "AssetRead",
    "AssetUpdate",
    "ImportPreview",
    "Lifecycle",
    "RowError",
    "RowPlan",
    "apply",
    "create_asset",
    "criticality_label",
    "get_asset",
    "get_asset_detail",
    "list_assets",
    "preview_csv",
    "retire_asset",
    "scope_of",
    "template_csv",
    "update_asset",
]
