"""The audit log viewer (filters, pages) and the chain verification button.

Date filters are calendar days in the reader's time zone: "from 3 March" means from local
midnight, "to 5 March" includes the whole of that day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import audit
from civicshield.accounts import Permission
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, offset_param
from civicshield.web.page import Page

__all__ = ["router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.AUDIT_READ))]
VerifyPage = Annotated[Page, Depends(require(Permission.AUDIT_VERIFY))]


def _day(value: str, zone: ZoneInfo) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=zone)
    except ValueError:
        return None


def _filters(page: Page) -> tuple[dict[str, Any], dict[str, str]]:
    """Service filters, and the raw values to show back in the form."""
    raw = {
        name: page.query(name)[:100]
        for name in ("actor", "action", "entity_type", "since", "until")
    }
    zone = ZoneInfo(page.timezone)
    until = _day(raw["until"], zone)
    filters: dict[str, Any] = {
        "actor": raw["actor"] or None,
        "action": raw["action"] or None,
        "entity_type": raw["entity_type"] or None,
        "since": _day(raw["since"], zone),
        "until": until + timedelta(days=1) if until else None,
    }
    return filters, raw


def _render(page: Page, *, report: audit.ChainReport | None = None) -> Response:
    filters, raw = _filters(page)
    offset = offset_param(page)
    with page.runtime.session() as session:
        result = audit.list_entries(session, **filters, limit=PAGE_SIZE, offset=offset)
    values: dict[str, Any] = {
        "entries": result.items,
        "pager": Pager.of(page, result.total, offset),
        "filters": raw,
        "report": report,
        "nav_key": "audit",
    }
    if page.htmx and page.request.headers.get("hx-target") == "audit-table":
        return page.fragment("audit/_table.html", **values)
    return page.render("audit/list.html", **values)


@router.get("/audit")
def audit_log(page: ReadPage) -> Response:
    return _render(page)


@router.post("/audit/verify")
def verify(page: VerifyPage) -> Response:
    with page.runtime.session() as session:
        report = audit.verify_chain(session)
    return _render(page, report=report)
