"""The incident report page (`/incidents/{id}/report`: choose recommendation blocks and the
language, preview, open as a document or PDF) and the metrics page (`/incidents/metrics`:
MTTD/MTTR by sector and type over a period, open cases by status and severity), with the
dashboard's metrics panel (`metrics_panel`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.responses import Response

from civicshield import incidents
from civicshield.accounts import Permission
from civicshield.core.errors import Invalid
from civicshield.incidents.reporting import (
    REPORT_LANGUAGES,
    compute_metrics,
    legal_markers,
    render_case_report_html,
    render_case_report_pdf,
    suggested,
)
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.incidents import ReadPage, case_values, scope_of

__all__ = ["case_title", "doc_language", "metrics_panel", "router"]

router = APIRouter()
_BODY = re.compile(r"<body>(.*)</body>", re.S)
_PERIODS = {"30": 30, "90": 90, "365": 365, "all": 0}


def case_title(session: Session, case_id: int, scope: Any) -> str:
    return incidents.get_case(session, case_id, scope=scope).title


def doc_language(page: Page) -> str:
    """The language asked for (`lang`), else the reader's."""
    wanted = page.query("lang") or page.language
    return wanted if wanted.lower() in REPORT_LANGUAGES else "en"


def _report(page: Page, case_id: int, *, pdf: bool) -> tuple[str | bytes, list[str]]:
    scope = scope_of(page)
    blocks = [b for b in page.request.query_params.getlist("blocks") if b][:50]
    now = page.runtime.clock.now()
    settings = page.runtime.settings
    with page.runtime.session() as session:
        args: dict[str, Any] = {
            "scope": scope, "blocks": blocks, "language": doc_language(page),
            "generated_at": now, "tz": settings.default_timezone,
            "city_name": settings.city_name,
            "markers": legal_markers(
                session, case_id, now=now, settings=settings, scope=scope, lang=page.language
            ),
        }  # fmt: skip
        if pdf:
            return render_case_report_pdf(session, case_id, **args), blocks
        return render_case_report_html(session, case_id, **args), blocks


@router.get("/incidents/{case_id:int}/report")
def report_page(case_id: int, page: ReadPage) -> Response:
    with page.runtime.session() as session:
        case = incidents.get_case(session, case_id, scope=scope_of(page))
    error = ""
    try:
        html, chosen = _report(page, case_id, pdf=False)
    except Invalid as exc:
        html, chosen, error = "", [], "; ".join(domain_errors(page, exc).values())
    found = _BODY.search(str(html))
    query = page.request.url.query
    return page.render(
        "incidents/report.html",
        status=422 if error else 200,
        c=case,
        report_error=error,
        report_preview=Markup(found.group(1)) if found else "",  # noqa: S704 - autoescaped document
        report_blocks=suggested(case.playbook_id, case.techniques),
        report_chosen=chosen,
        report_lang=doc_language(page).split("-")[0].lower(),
        report_query=query,
        **case_values(page),
    )


@router.get("/incidents/{case_id:int}/report/document")
def report_document(case_id: int, page: ReadPage) -> Response:
    html, _ = _report(page, case_id, pdf=False)
    return Response(html, media_type="text/html; charset=utf-8")


@router.get("/incidents/{case_id:int}/report.pdf")
def report_pdf(case_id: int, page: ReadPage) -> Response:
    pdf, _ = _report(page, case_id, pdf=True)
    name = f"case-{case_id}-report.pdf"
    return Response(
        pdf, media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


def _period(page: Page) -> tuple[str, datetime | None, datetime | None]:
    """`period` = 30, 90, 365 days or all; or explicit `since`/`until` dates (YYYY-MM-DD)."""
    since_text, until_text = page.query("since"), page.query("until")
    try:
        since = (
            datetime.combine(date.fromisoformat(since_text), time(), UTC) if since_text else None
        )
        until = (
            datetime.combine(date.fromisoformat(until_text), time(), UTC) if until_text else None
        )
    except ValueError:
        since = until = None
    if since or until:
        return "custom", since, until + timedelta(days=1) if until else None
    key = page.query("period", "90")
    days = _PERIODS.get(key, 90)
    now = page.runtime.clock.now()
    return (key if key in _PERIODS else "90"), (now - timedelta(days=days) if days else None), None


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


@router.get("/incidents/metrics")
def metrics_page(page: ReadPage) -> Response:
    key, since, until = _period(page)
    with page.runtime.session() as session:
        metrics = compute_metrics(session, since=since, until=until, scope=scope_of(page))
    return page.render(
        "incidents/metrics.html",
        metrics=metrics,
        metrics_period=key,
        metrics_since=page.query("since"),
        metrics_until=page.query("until"),
        hours=_hours,
        **case_values(page),
    )


def metrics_panel(page: Page) -> dict[str, Any]:
    """The dashboard panel's context (keys `metrics_panel_*`): the last 90 days; empty for a
    reader who may not read incidents."""
    if not page.can(Permission.INCIDENTS_READ):
        return {"metrics_panel": None}
    since = page.runtime.clock.now() - timedelta(days=90)
    with page.runtime.session() as session:
        metrics = compute_metrics(session, since=since, scope=scope_of(page))
    return {"metrics_panel": metrics, "metrics_panel_hours": _hours}
