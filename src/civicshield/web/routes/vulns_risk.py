"""Sector risk: the city score and band, a sector × severity heat map, sectors and zones, the
findings to act on first, a 90-day trend, and the printable report (HTML or PDF, en/es/fr).

The trend is drawn as a server-side SVG (the CSP allows no inline script) with its data table
beside it, so it reads without JavaScript and for screen readers alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import HTMLResponse, Response

from civicshield import vulns
from civicshield.accounts import Permission
from civicshield.core.enums import Severity
from civicshield.core.i18n import N_
from civicshield.vulns import PdfRendererMissing, RiskSummary, RiskTrend
from civicshield.web.deps import require
from civicshield.web.page import Page
from civicshield.web.routes.vulns import labels, scope_of

__all__ = ["REPORT_LANGUAGES", "TREND_DAYS", "Chart", "chart_of", "router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.VULNS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.VULNS_MANAGE))]

TREND_DAYS = 90
REPORT_LANGUAGES = {"en": "English", "es": "Español", "fr": "Français"}
HEAT_COLUMNS = (*(s.value for s in reversed(Severity)), "unrated")
# The report is one self-contained document with its own <style>: it may use inline styles
# and nothing else (no script, no fetch).
REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_W, _H, _PAD = 640, 220, 30  # chart size in SVG units; the y axis is a score from 0 to 100


@dataclass(frozen=True)
class Chart:
    """Polylines per series (key, points "x,y …", last score) and the axis labels."""

    lines: list[tuple[str, str, float]]
    start: date
    end: date
    width: int = _W
    height: int = _H


def chart_of(trend: RiskTrend) -> Chart:
    span = max((trend.end - trend.start).days, 1)

    def xy(day: date, score: float) -> str:
        x = _PAD + (_W - 2 * _PAD) * (day - trend.start).days / span
        y = _H - _PAD - (_H - 2 * _PAD) * min(max(score, 0.0), 100.0) / 100.0
        return f"{x:.1f},{y:.1f}"

    lines = [
        (key, " ".join(xy(p.day, p.score) for p in points), points[-1].score)
        for key, points in sorted(trend.series.items(), key=lambda kv: (kv[0] != "city", kv[0]))
        if points
    ]
    return Chart(lines=lines, start=trend.start, end=trend.end)


def _heat(summary: RiskSummary) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """Counts per (sector, severity) and each cell's intensity level 0-5 (class `heat-N`)."""
    counts = {s.key: {c: s.by_severity.get(c, 0) for c in HEAT_COLUMNS} for s in summary.sectors}
    peak = max((n for row in counts.values() for n in row.values()), default=0)
    levels = {
        f"{key}:{col}": 0 if n == 0 else max(1, round(5 * n / peak))
        for key, row in counts.items()
        for col, n in row.items()
    }
    return counts, levels


def _short(language: str) -> str:
    short = language.split("-")[0].lower()
    return short if short in REPORT_LANGUAGES else "en"


def _risk(page: Page) -> tuple[RiskSummary, RiskTrend]:
    with page.runtime.session() as session:
        summary = vulns.sector_risk(
            session, scope=scope_of(page), clock=page.runtime.clock, tz=page.timezone
        )
        trend = vulns.risk_trend(
            session,
            scope=scope_of(page),
            days=TREND_DAYS,
            clock=page.runtime.clock,
            tz=page.timezone,
        )
    return summary, trend


@router.get("/vulns/risk")
def risk_page(page: ReadPage) -> Response:
    summary, trend = _risk(page)
    counts, levels = _heat(summary)
    values: dict[str, Any] = {
        "nav_key": "risk",
        "summary": summary,
        "trend": trend,
        "chart": chart_of(trend),
        "heat_columns": HEAT_COLUMNS,
        "heat": counts,
        "heat_levels": levels,
        "report_languages": REPORT_LANGUAGES,
        "report_language": _short(page.language),
        "trend_days": sorted({p.day for points in trend.series.values() for p in points}),
        "trend_scores": {k: {p.day: p.score for p in v} for k, v in trend.series.items()},
        **labels(page),
    }
    return page.render("vulns/risk.html", **values)


def _report_language(page: Page) -> str:
    lang = page.query("lang") or _short(page.language)
    return lang if lang in REPORT_LANGUAGES else ""


def _bad_language(page: Page) -> Response:
    return page.render(
        "vulns/report_error.html",
        status=422,
        nav_key="risk",
        problem=page.gettext(N_("Choose a report language: en, es or fr.")),
    )


@router.get("/vulns/risk/report.html")
def report_html(page: ReadPage) -> Response:
    lang = _report_language(page)
    if not lang:
        return _bad_language(page)
    summary, trend = _risk(page)
    html = vulns.render_risk_report_html(
        summary,
        trend,
        language=lang,
        city_name=page.runtime.settings.city_name,
        generated_at=page.runtime.clock.now(),
        tz=page.timezone,
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": REPORT_CSP})


@router.get("/vulns/risk/report.pdf")
def report_pdf(page: ReadPage) -> Response:
    lang = _report_language(page)
    if not lang:
        return _bad_language(page)
    summary, trend = _risk(page)
    try:
        pdf = vulns.render_risk_report_pdf(
            summary,
            trend,
            language=lang,
            city_name=page.runtime.settings.city_name,
            generated_at=page.runtime.clock.now(),
            tz=page.timezone,
        )
    except PdfRendererMissing as exc:
        return page.render(
            "vulns/report_error.html",
            status=503,
            nav_key="risk",
            problem=page.gettext(
                N_("The PDF cannot be made on this server: %(detail)s. The HTML report works."),
                detail=exc.detail,
            ),
            lang=lang,
        )
    name = f"risk-report-{summary.day.isoformat()}-{lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/vulns/risk/snapshot")
def snapshot(page: ManagePage) -> Response:
    with page.runtime.session() as session:
        vulns.take_snapshot(session, clock=page.runtime.clock, tz=page.timezone)
    return page.redirect("/vulns/risk", flash="saved")
