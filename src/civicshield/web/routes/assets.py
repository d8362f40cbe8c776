"""The asset inventory: the list (filters as a shareable GET form, HTMX swaps only the table),
one asset's page (identifiers, software, change history), its edit form and "retire".

Every call passes `scope_of(principal)`: a sector operator's pages only ever hold their own
sectors' assets, and another sector's asset answers 404 like a missing one.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import assets
from civicshield.accounts import Permission
from civicshield.assets import (
    CRITICALITY_LABELS,
    AssetDetail,
    AssetFilter,
    AssetKind,
    AssetRead,
    AssetUpdate,
    Lifecycle,
)
from civicshield.core.enums import Sector
from civicshield.core.errors import Invalid, PermissionDenied
from civicshield.core.i18n import N_
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, domain_errors, offset_param, schema_errors
from civicshield.web.page import Page

__all__ = ["ASSET_FIELD_MESSAGES", "SORTS", "router", "sectors_for"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.ASSETS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.ASSETS_MANAGE))]

SORTS: dict[str, str] = {
    "sector": N_("Sector"),
    "name": N_("Name"),
    "criticality": N_("Criticality"),
}
# The service pages in sector-then-name order only; other orders are applied here over every
# match, up to this many (a city inventory is thousands of assets, not millions).
# TODO(owner): move `sort` into AssetFilter so SQL orders and pages it.
_SORT_IN_MEMORY_MAX = 10_000
_E = TypeVar("_E", bound=Enum)
_YES_NO = {"yes": True, "no": False}
_LIST_SPLIT = re.compile(r"[\s,;]+")
_TAG_SPLIT = re.compile(r"\s*[,;]\s*")
_TEXT_FIELDS = ("name", "zone", "vendor", "product", "version", "serial", "cpe", "purl")
_MORE_TEXT = ("address", "owner", "contact")
_LIST_FIELDS = ("ips", "macs", "hostnames")

ASSET_FIELD_MESSAGES = {
    "name": N_("Enter a name of at most 200 characters."),
    "sector": N_("Choose one of your sectors."),
    "kind": N_("Choose IT, IoT or OT."),
    "ips": N_("Enter IP addresses separated by spaces or commas."),
    "macs": N_("Enter MAC addresses separated by spaces or commas."),
    "hostnames": N_("Enter host names separated by spaces or commas."),
    "cpe": N_("Enter a CPE 2.3 formatted string, or leave it empty."),
    "purl": N_("Enter a package URL (pkg:type/name@version), or leave it empty."),
    "latitude": N_("Enter both latitude (-90 to 90) and longitude (-180 to 180), or neither."),
    "longitude": N_("Enter both latitude (-90 to 90) and longitude (-180 to 180), or neither."),
    "criticality": N_("Choose a criticality from 1 to 5."),
    "*": N_("Check this value."),
}


def sectors_for(page: Page) -> list[Sector]:
    """The sectors this user may pick (a sector operator: only theirs)."""
    scope = assets.scope_of(page.user)
    return [s for s in Sector if scope is None or s in scope]


def _choice(kind: type[_E], raw: str) -> _E | None:
    return kind(raw) if raw in kind._value2member_map_ else None


def _filters(page: Page) -> tuple[AssetFilter, dict[str, str]]:
    """The service filter, and the raw values to show back in the form (nonsense is ignored)."""
    names = ("q", "sector", "zone", "kind", "criticality", "exposed", "lifecycle", "sort")
    raw = {name: page.query(name)[:100] for name in names}
    level = raw["criticality"]
    chosen = AssetFilter(
        q=raw["q"] or None,
        sector=_choice(Sector, raw["sector"]),
        zone=raw["zone"] or None,
        kind=_choice(AssetKind, raw["kind"]),
        min_criticality=int(level) if level in ("1", "2", "3", "4", "5") else None,
        internet_exposed=_YES_NO.get(raw["exposed"]),
        lifecycle=_choice(Lifecycle, raw["lifecycle"]),
    )
    if raw["sort"] not in SORTS:
        raw["sort"] = "sector"
    return chosen, raw


def _sort_key(sort: str) -> Any:
    if sort == "name":
        return lambda a: (a.name.lower(), a.id)
    return lambda a: (-a.criticality, a.name.lower(), a.id)


def _page_of(
    page: Page, chosen: AssetFilter, sort: str, offset: int
) -> tuple[list[AssetRead], int, bool]:
    """One page of assets in the chosen order, the total, and whether the order was honoured."""
    scope = assets.scope_of(page.user)
    with page.runtime.session() as session:
        result = assets.list_assets(session, chosen, scope=scope, limit=PAGE_SIZE, offset=offset)
        if sort == "sector" or result.total > _SORT_IN_MEMORY_MAX:
            return result.items, result.total, sort == "sector"
        every = assets.list_assets(session, chosen, scope=scope, limit=result.total, offset=0)
    ordered = sorted(every.items, key=_sort_key(sort))
    return ordered[offset : offset + PAGE_SIZE], every.total, True


@router.get("/assets")
def asset_list(page: ReadPage) -> Response:
    chosen, raw = _filters(page)
    offset = offset_param(page)
    items, total, sorted_as_asked = _page_of(page, chosen, raw["sort"], offset)
    values: dict[str, Any] = {
        "nav_key": "inventory",
        "found": items,
        "pager": Pager.of(page, total, offset),
        "filters": raw,
        "sectors": sectors_for(page),
        "kinds": list(AssetKind),
        "lifecycles": list(Lifecycle),
        "criticalities": CRITICALITY_LABELS,
        "sorts": SORTS,
        "sorted_as_asked": sorted_as_asked,
    }
    if page.htmx and page.request.headers.get("hx-target") == "assets-table":
        return page.fragment("assets/_table.html", **values)
    return page.render("assets/list.html", **values)


def _values_of(asset: AssetRead) -> dict[str, Any]:
    """The edit form's initial values, as the text the inputs show."""
    values: dict[str, Any] = {name: getattr(asset, name) or "" for name in _TEXT_FIELDS}
    values.update({name: getattr(asset, name) for name in _MORE_TEXT})
    values.update({name: " ".join(getattr(asset, name)) for name in _LIST_FIELDS})
    values.update(
        sector=asset.sector.value,
        kind=asset.kind.value,
        lifecycle=asset.lifecycle.value,
        criticality=str(asset.criticality),
        internet_exposed=asset.internet_exposed,
        tags=", ".join(asset.tags),
        latitude="" if asset.latitude is None else str(asset.latitude),
        longitude="" if asset.longitude is None else str(asset.longitude),
    )
    return values


def _form_values(page: Page) -> dict[str, Any]:
    """What the user typed, to validate and to show again next to the errors."""
    names = (*_TEXT_FIELDS, *_MORE_TEXT, *_LIST_FIELDS, "sector", "kind", "lifecycle")
    values: dict[str, Any] = {name: page.field(name) for name in names}
    values.update(
        criticality=page.field("criticality"),
        internet_exposed=page.field("internet_exposed") == "yes",
        tags=page.field("tags"),
        latitude=page.field("latitude"),
        longitude=page.field("longitude"),
    )
    return values


def _update_of(values: dict[str, Any]) -> AssetUpdate:
    """Every editable field is sent: a blank optional field clears the stored value."""
    body: dict[str, Any] = {name: values[name] for name in (*_TEXT_FIELDS, *_MORE_TEXT)}
    body.update({name: [v for v in _LIST_SPLIT.split(values[name]) if v] for name in _LIST_FIELDS})
    body.update(
        sector=values["sector"],
        kind=values["kind"],
        lifecycle=values["lifecycle"],
        criticality=values["criticality"],
        internet_exposed=values["internet_exposed"],
        tags=[t for t in _TAG_SPLIT.split(values["tags"]) if t],
        latitude=values["latitude"] or None,
        longitude=values["longitude"] or None,
    )
    return AssetUpdate(**body)


def _load(page: Page, asset_id: int) -> AssetDetail:
    with page.runtime.session() as session:
        return assets.get_asset_detail(session, asset_id, scope=assets.scope_of(page.user))


def _detail(
    page: Page,
    asset: AssetDetail,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page.render(
        "assets/detail.html",
        status=status,
        nav_key="inventory",
        asset=asset,
        values=values or _values_of(asset),
        errors=errors or {},
        options=_options(page),
    )


def _options(page: Page) -> dict[str, list[tuple[str, str]]]:
    """(value, translated label) pairs for the edit form's selects."""

    def pairs(members: list[Sector] | list[AssetKind] | list[Lifecycle]) -> list[tuple[str, str]]:
        return [(m.value, page.gettext(m.label)) for m in members]

    levels = [(str(n), f"{n} · {page.gettext(label)}") for n, label in CRITICALITY_LABELS.items()]
    return {
        "sector": pairs(sectors_for(page)),
        "kind": pairs(list(AssetKind)),
        "lifecycle": pairs(list(Lifecycle)),
        "criticality": levels,
    }


@router.get("/assets/{asset_id}")
def asset_detail(asset_id: int, page: ReadPage) -> Response:
    return _detail(page, _load(page, asset_id))


@router.post("/assets/{asset_id}")
def update(asset_id: int, page: ManagePage) -> Response:
    asset = _load(page, asset_id)  # 404 first: outside the scope it does not exist
    values = _form_values(page)
    try:
        data = _update_of(values)
    except ValidationError as exc:
        errors = schema_errors(page, exc, ASSET_FIELD_MESSAGES)
        return _detail(page, asset, values=values, errors=errors, status=422)
    try:
        with page.runtime.session() as session:
            assets.update_asset(
                session,
                asset_id,
                data,
                actor=page.actor,
                clock=page.runtime.clock,
                scope=assets.scope_of(page.user),
            )
    except Invalid as exc:
        errors = domain_errors(page, exc)
        return _detail(page, asset, values=values, errors=errors, status=422)
    except PermissionDenied:  # moving it into a sector the user does not have
        message = ASSET_FIELD_MESSAGES["sector"]
        errors = {"sector": page.gettext(message)}
        return _detail(page, asset, values=values, errors=errors, status=422)
    return page.redirect(f"/assets/{asset_id}", flash="saved")


@router.post("/assets/{asset_id}/retire")
def retire(asset_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        assets.retire_asset(
            session,
            asset_id,
            actor=page.actor,
            clock=page.runtime.clock,
            scope=assets.scope_of(page.user),
        )
    return page.redirect(f"/assets/{asset_id}", flash="saved")
