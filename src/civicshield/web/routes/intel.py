"""Threat-intel pages: the indicators list (filters, counts per state, paging), one indicator
(its current version, every stored version, sightings, provenance and the alerts it raised),
and the feeds page (sources, warninglists; file import and warninglist loading for
`intel:manage`). Peers and publishing live in `intel_peers` and `intel_publish`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.datastructures import UploadFile
from starlette.responses import Response

from civicshield import alerts, intel
from civicshield.accounts import Permission
from civicshield.alerts import AlertFilter
from civicshield.core.enums import Tlp
from civicshield.core.errors import Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.intel import ImportReport, IndicatorFilter
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, offset_param
from civicshield.web.page import Page
from civicshield.web.routes.alerts import scope_of as alert_scope

__all__ = [
    "IMPORT_FORMATS",
    "SOURCE_KINDS",
    "STATES",
    "WARNINGLISTS_DIR",
    "dashboard_card",
    "router",
]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.INTEL_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.INTEL_MANAGE))]

STATES: dict[str, str] = {
    "active": N_("Active"),
    "expired": N_("Expired"),
    "revoked": N_("Revoked"),
    "suppressed": N_("Suppressed by a warninglist"),
    "not_matchable": N_("Not matchable"),
}
SOURCE_KINDS: dict[str, str] = {
    "stix": N_("STIX bundle"),
    "misp-feed": N_("MISP feed"),
    "misp-event": N_("MISP event"),
    "csv": N_("CSV or plain list"),
    "taxii": N_("TAXII collection"),
}
IMPORT_FORMATS: dict[str, str] = {
    "stix": N_("STIX 2.1 bundle (JSON)"),
    "misp-event": N_("MISP event (JSON)"),
    "csv": N_("CSV file or plain list (needs a mapping)"),
}
# Under the feeds path (CIVICSHIELD_FEEDS_PATH), as the shared data lays MISP's lists out.
WARNINGLISTS_DIR = "intel/misp-warninglists/lists"
_FILTERS = ("kind", "tlp", "state", "source", "q")
_ALERTS_SHOWN = 20


def _values(page: Page, **extra: Any) -> dict[str, Any]:
    """What every intel template uses: labels beside colours, the tab highlighted."""
    return {
        "nav_key": "intel",
        "TLP": {t.value: t for t in Tlp},
        "STATES": STATES,
        "SOURCE_KINDS": SOURCE_KINDS,
        **extra,
    }


def dashboard_card(page: Page) -> dict[str, Any]:
    """The dashboard's threat-intel card (for `intel:read`): active indicators, indicators
    sighted in the last 24 hours, and the source whose last run failed most recently."""
    now = page.runtime.clock.now()
    with page.runtime.session() as session:
        found = intel.list_indicators(session, IndicatorFilter(), now=now, limit=0)
        sighted = intel.sighted_since(session, now - timedelta(days=1))
        sources = intel.list_sources(session)
    failing = [s for s in sources if s.last_error]
    failing.sort(key=lambda s: s.last_import_at or s.created_at, reverse=True)
    return {
        "active": found.counts.get("active", 0),
        "total": found.total,
        "sighted": sighted,
        "failing": failing[0] if failing else None,
    }


def _filters(page: Page) -> tuple[IndicatorFilter, dict[str, str]]:
    """The service filter and the raw values shown back in the form (nonsense is ignored)."""
    raw = {name: page.query(name)[:200] for name in _FILTERS}
    source = raw["source"]
    chosen = IndicatorFilter(
        kind=raw["kind"] if raw["kind"] in intel.DEFAULT_DECAY_DAYS else None,
        tlp=raw["tlp"] if raw["tlp"] in Tlp._value2member_map_ else None,
        state=raw["state"] if raw["state"] in STATES else None,
        source_id=int(source) if source.isdigit() and len(source) < 12 else None,
        q=raw["q"] or None,
    )
    return chosen, raw


@router.get("/intel")
def indicator_list(page: ReadPage) -> Response:
    chosen, raw = _filters(page)
    offset = offset_param(page)
    now = page.runtime.clock.now()
    with page.runtime.session() as session:
        found = intel.list_indicators(session, chosen, now=now, limit=PAGE_SIZE, offset=offset)
        sources = intel.list_sources(session)
    params = tuple((k, v) for k, v in raw.items() if v)
    values = _values(
        page,
        tab="indicators",
        found=found,
        filters=raw,
        kinds=sorted(intel.DEFAULT_DECAY_DAYS),
        sources=sources,
        pager=Pager(found.total, offset, PAGE_SIZE, params, "/intel"),
        state_links={
            state: "/intel?"
            + urlencode([*((k, v) for k, v in params if k != "state"), ("state", state)])
            for state in STATES
        },
    )
    if page.htmx and page.request.headers.get("hx-target") == "indicators-table":
        return page.fragment("intel/_table.html", **values)
    return page.render("intel/index.html", **values)


def _raised(page: Page, stix_id: str) -> tuple[bool, Any]:
    """The alerts this indicator raised, for a reader allowed to see alerts (in their scope)."""
    if not page.can(Permission.ALERTS_READ):
        return False, None
    with page.runtime.session() as session:
        found = alerts.list_alerts(
            session,
            AlertFilter(rule_id=f"intel/{stix_id}", statuses=[]),
            limit=_ALERTS_SHOWN,
            scope=alert_scope(page),
        )
    return True, found


@router.get("/intel/indicators/{stix_id}")
def indicator_detail(stix_id: str, page: ReadPage) -> Response:
    with page.runtime.session() as session:
        item = intel.get_indicator(session, stix_id[:300], now=page.runtime.clock.now())
    can_alerts, raised = _raised(page, item.stix_id)
    return page.render(
        "intel/indicator.html",
        **_values(page, tab="indicators", i=item, can_alerts=can_alerts, raised=raised),
    )


def _feeds(page: Page, *, status: int = 200, **extra: Any) -> Response:
    with page.runtime.session() as session:
        sources = intel.list_sources(session)
        lists = intel.list_warninglists(session)
    feeds_path = page.runtime.settings.feeds_path
    values = _values(
        page,
        tab="feeds",
        sources=sources,
        warninglists=lists,
        formats=IMPORT_FORMATS,
        feeds_path=feeds_path,
        max_mib=page.runtime.settings.max_body_bytes // (1024 * 1024),
        report=None,
        import_error=None,
        import_values={"format": "stix", "mapping": "", "name": ""},
        lists_error=None,
        lists_loaded=None,
        lists_dir=WARNINGLISTS_DIR,
    )
    values.update(extra)
    return page.render("intel/feeds.html", status=status, **values)


@router.get("/intel/feeds")
def feeds(page: ReadPage) -> Response:
    return _feeds(page)


def _read_upload(page: Page) -> tuple[str, bytes] | str:
    """(file name, bytes) of the posted file, or the message to show instead."""
    upload = page.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return page.gettext(N_("Choose a file to import."))
    limit = page.runtime.settings.max_body_bytes
    try:
        data = upload.file.read(limit + 1)
    finally:
        upload.file.close()  # nothing closes the parsed form's spooled files for us
    name = Path(upload.filename).name[:200]
    if len(data) > limit:
        message = N_("%(file)s is larger than %(size)s MiB: split it into smaller files.")
        return page.gettext(message, file=name, size=limit // (1024 * 1024))
    if not data.strip():
        return page.gettext(N_("%(file)s is empty."), file=name)
    return name, data


def _decode(name: str, data: bytes, fmt: str) -> Any:
    """The upload as text (CSV) or parsed JSON; Invalid names the file and the place."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"{name}: not UTF-8 text (byte {exc.start})") from None
    if fmt == "csv":
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(
            f"{name}: not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
        ) from None


def _import(page: Page, name: str, data: bytes, fmt: str, mapping: str) -> ImportReport:
    parsed = _decode(name, data, fmt)
    settings = page.runtime.settings
    common: dict[str, Any] = {
        "location": f"upload:{page.field('name')[:100] or name}",
        "actor": page.actor,
        "clock": page.runtime.clock,
        "decay_days": settings.intel_decay_days or None,
    }
    with page.runtime.session() as session:
        if fmt == "csv":
            tlp = Tlp(settings.intel_default_tlp)
            return intel.import_csv(session, parsed, mapping=mapping, tlp=tlp, **common)
        if fmt == "misp-event":
            return intel.import_misp_event(session, parsed, **common)
        return intel.import_stix(session, parsed, **common)


@router.post("/intel/feeds/import")
def feeds_import(page: ManagePage) -> Response:
    posted = {name: page.field(name)[:200] for name in ("format", "mapping", "name")}
    fmt, mapping = posted["format"], posted["mapping"]
    read = _read_upload(page)  # first: it closes the spooled upload whatever happens next
    if fmt not in IMPORT_FORMATS:
        read = page.gettext(N_("Choose a format from the list."))
    elif fmt == "csv" and not mapping:
        read = page.gettext(N_("A CSV file needs a mapping, such as ip=ip-dst or domain."))
    if isinstance(read, str):
        return _feeds(page, status=422, import_error=read, import_values=posted)
    try:
        report = _import(page, *read, fmt, mapping)
    except Invalid as exc:
        # The whole file is unreadable: the message names the file and the place.
        return _feeds(page, status=422, import_error=exc.detail, import_values=posted)
    return _feeds(page, report=report, import_values=posted)


def _lists_dir(page: Page, raw: str) -> Path:
    """A directory under the feeds path; anything outside it is refused."""
    base = page.runtime.settings.feeds_path
    if base is None:
        raise Invalid("no feeds path is configured (CIVICSHIELD_FEEDS_PATH)")
    root = base.resolve()
    target = (root / (raw or WARNINGLISTS_DIR)).resolve()
    if not target.is_relative_to(root):
        raise Invalid(f"{raw}: not a directory under the feeds path")
    return target


@router.post("/intel/feeds/warninglists")
def feeds_warninglists(page: ManagePage) -> Response:
    raw = page.field("directory")[:300]
    try:
        directory = _lists_dir(page, raw)
        with page.runtime.session() as session:
            loaded = intel.load_warninglists(
                session, directory, actor=page.actor, clock=page.runtime.clock
            )
    except (Invalid, NotFound) as exc:
        return _feeds(page, status=422, lists_error=exc.detail, lists_dir=raw)
    return _feeds(page, lists_loaded=loaded, lists_dir=raw or WARNINGLISTS_DIR)
