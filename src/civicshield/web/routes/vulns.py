"""The findings queue: open findings sorted by SSVC decision and due date, filtered by a
shareable GET form (HTMX swaps only the table), with a bulk status change and "match inventory
now" for `vulns:manage`; plus the compact findings table of one asset (an HTMX fragment).

Every call passes `scope_of(principal)`: a sector operator sees only their sectors' findings.
The other vulnerability pages live in `vulns_detail`, `vulns_risk` and `vulns_admin`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_percent
from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import assets, vulns
from civicshield.accounts import Permission
from civicshield.core.enums import Sector, Severity
from civicshield.core.errors import Invalid
from civicshield.core.i18n import N_
from civicshield.core.templating import babel_locale
from civicshield.vulns import Decision, FindingFilter, FindingPage, FindingStatus, StatusChange
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, domain_errors, offset_param
from civicshield.web.page import Page
from civicshield.web.routes.assets import sectors_for

__all__ = [
    "NEEDS_WORK",
    "STATUS_MESSAGES",
    "labels",
    "router",
    "scope_of",
    "status_change",
]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.VULNS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.VULNS_MANAGE))]

NEEDS_WORK = "needs_work"  # the default status filter: every status that is not closed
_YES_NO = {"yes": True, "no": False}
_FILTERS = ("status", "decision", "sector", "severity", "kev", "overdue", "q", "asset")
STATUS_MESSAGES = {
    "status": N_("Choose a status."),
    "accepted_until": N_("Enter the date the acceptance ends (YYYY-MM-DD), after today."),
    "approver": N_("Name who approved accepting this risk."),
    "reason": N_("Say why (at most 2,000 characters)."),
    "ids": N_("Choose at least one finding."),
}


def _message(page: Page, key: str) -> str:
    # Looked up first: a literal key inside gettext(...) would be extracted as a message.
    message = STATUS_MESSAGES[key]
    return page.gettext(message)


def scope_of(page: Page) -> Collection[Sector] | None:
    return assets.scope_of(page.user)


def labels(page: Page) -> dict[str, Any]:
    """Lookups and formatters every vulnerability template uses (labels beside colours)."""
    locale = babel_locale(page.language)

    def day(value: date | None, fmt: str = "medium") -> str:
        return "" if value is None else str(format_date(value, format=fmt, locale=locale))

    return {
        "SEVERITY": {s.value: s for s in Severity},
        "SECTOR": {s.value: s for s in Sector},
        "decisions": list(reversed(Decision)),
        "statuses": list(FindingStatus),
        "day": day,
        "percent": _percent(locale),
    }


def _percent(locale: str) -> Callable[[float | None], str]:
    def percent(value: float | None) -> str:
        return "" if value is None else str(format_percent(value, "#,##0.0%", locale=locale))

    return percent


def _filters(page: Page) -> tuple[FindingFilter, dict[str, str]]:
    """The service filter and the raw values shown back in the form (nonsense is ignored)."""
    raw = {name: page.query(name)[:100] for name in _FILTERS}
    raw["status"] = raw["status"] or NEEDS_WORK
    status, decision = raw["status"], raw["decision"]
    asset = raw["asset"]
    chosen = FindingFilter(
        open_only=status == NEEDS_WORK,
        status=[FindingStatus(status)] if status in FindingStatus._value2member_map_ else [],
        decision=[Decision(decision)] if decision in Decision._value2member_map_ else [],
        sector=[Sector(raw["sector"])] if raw["sector"] in Sector._value2member_map_ else [],
        severity=[raw["severity"]] if raw["severity"] in Severity._value2member_map_ else [],
        kev=_YES_NO.get(raw["kev"]),
        overdue=_YES_NO.get(raw["overdue"]),
        q=raw["q"] or None,
        asset_id=int(asset) if asset.isdigit() and len(asset) < 12 else None,
    )
    return chosen, raw


def _params(raw: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in raw.items() if v)


def _queue_values(page: Page, **extra: Any) -> dict[str, Any]:
    chosen, raw = _filters(page)
    offset = offset_param(page)
    with page.runtime.session() as session:
        found = vulns.list_findings(
            session,
            chosen,
            clock=page.runtime.clock,
            scope=scope_of(page),
            limit=PAGE_SIZE,
            offset=offset,
        )
    query = urlencode(_params(raw))
    values: dict[str, Any] = {
        "nav_key": "vulnerabilities",
        "found": found,
        # Built here, not from the request: a re-rendered POST still pages the queue.
        "pager": Pager(found.total, offset, PAGE_SIZE, _params(raw), "/vulns/findings"),
        "filters": raw,
        "sectors": sectors_for(page),
        "severities": list(reversed(Severity)),
        "here": f"/vulns/findings?{query}",
        "bulk_errors": {},
        "bulk_values": {},
        "checked": set(),
        "notice": None,
        **labels(page),
    }
    values.update(extra)
    return values


@router.get("/vulns/findings")
def finding_list(page: ReadPage) -> Response:
    values = _queue_values(page)
    if page.htmx and page.request.headers.get("hx-target") == "findings-table":
        return page.fragment("vulns/_table.html", **values)
    return page.render("vulns/list.html", **values)


def status_change(page: Page) -> tuple[StatusChange | None, dict[str, str]]:
    """A `StatusChange` from the posted status form, or the errors to show beside its fields.
    Accepting a risk needs both an expiry date and who approved it."""
    errors: dict[str, str] = {}
    raw_status = page.field("status")
    if raw_status not in FindingStatus._value2member_map_:
        errors["status"] = _message(page, "status")
        return None, errors
    status = FindingStatus(raw_status)
    until: date | None = None
    raw_until = page.field("accepted_until")
    approver = page.field("approver")[:200]
    if status is FindingStatus.ACCEPTED:
        try:
            until = date.fromisoformat(raw_until)
        except ValueError:
            errors["accepted_until"] = _message(page, "accepted_until")
        if not approver:
            errors["approver"] = _message(page, "approver")
    reason = page.field("reason")
    if len(reason) > 2000:
        errors["reason"] = _message(page, "reason")
    if errors:
        return None, errors
    return StatusChange(
        status=status,
        reason=reason,
        accepted_until=until,
        approver=approver if status is FindingStatus.ACCEPTED else None,
    ), {}


def _back(page: Page) -> str:
    """Where the bulk form came from (only ever the queue itself)."""
    target = page.field("next")
    return target if target.startswith("/vulns/findings?") else "/vulns/findings"


@router.post("/vulns/findings/bulk")
def bulk_change(page: ManagePage) -> Response:
    raw_ids = page.fields("ids")
    ids = [int(v) for v in raw_ids if v.isdigit() and len(v) < 12]
    change, errors = status_change(page)
    if not ids:
        errors["ids"] = _message(page, "ids")
    if change is not None and not errors:
        try:
            with page.runtime.session() as session:
                vulns.change_statuses(
                    session,
                    ids,
                    change,
                    actor=page.actor,
                    clock=page.runtime.clock,
                    scope=scope_of(page),
                )
        except Invalid as exc:
            errors = domain_errors(page, exc)
        else:
            return page.redirect(_back(page), flash="saved")
    posted = {name: page.field(name) for name in ("status", "reason", "accepted_until")}
    posted["approver"] = page.field("approver")
    values = _queue_values(page, bulk_errors=errors, bulk_values=posted, checked=set(ids))
    return page.render("vulns/list.html", status=422, **values)


@router.post("/vulns/match")
def match_now(page: ManagePage) -> Response:
    with page.runtime.session() as session:
        summary = vulns.match_inventory(
            session, actor=page.actor, clock=page.runtime.clock, scope=scope_of(page)
        )
    notice = page.gettext(
        N_(
            "Matched %(assets)s assets against %(cves)s CVEs: %(created)s new findings, "
            "%(reopened)s reopened, %(fixed)s fixed, %(open)s still open."
        ),
        assets=summary.assets,
        cves=summary.cves,
        created=summary.created,
        reopened=summary.reopened,
        fixed=summary.fixed,
        open=summary.still_open,
    )
    return page.render(
        "vulns/match_done.html", nav_key="vulnerabilities", summary=summary, notice=notice
    )


@router.get("/vulns/assets/{asset_id}/findings")
def asset_findings(asset_id: int, page: ReadPage) -> Response:
    """The findings of one asset, for its detail page (`hx-get` into a placeholder)."""
    with page.runtime.session() as session:
        asset = assets.get_asset(session, asset_id, scope=scope_of(page))  # 404 outside scope
        found: FindingPage = vulns.list_findings(
            session,
            FindingFilter(asset_id=asset.id),
            clock=page.runtime.clock,
            scope=scope_of(page),
            limit=100,
        )
    return page.fragment(
        "vulns/_asset_findings.html", asset_id=asset.id, found=found, **labels(page)
    )
