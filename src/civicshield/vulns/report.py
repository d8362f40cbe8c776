"""The printable risk report for city leadership: HTML (one self-contained page) and PDF.

The template is `vulns/documents/risk_report.html`, rendered through `core.templating` in the
reader's language; numbers and dates are formatted by Babel for that language. The PDF is made
by WeasyPrint, imported only when a PDF is asked for (it needs Pango, a system library).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from markupsafe import Markup

from civicshield.core.enums import Sector, Severity
from civicshield.core.errors import CivicShieldError, FieldError, Invalid
from civicshield.core.i18n import N_
from civicshield.core.templating import DocumentRenderer, babel_locale, load_translations
from civicshield.vulns._risk import UNDECIDED, UNRATED
from civicshield.vulns.enums import Decision
from civicshield.vulns.risk import FORMULA, RiskBand, RiskFormula, RiskSummary, RiskTrend

__all__ = [
    "CSF_SUBCATEGORIES",
    "PdfRendererMissing",
    "render_risk_report_html",
    "render_risk_report_pdf",
]

DOCUMENTS = Path(__file__).resolve().parent / "documents"
TEMPLATE = "risk_report.html"
# Short language tags accepted beside the UI's own (the report is for people, not the UI).
_LANGUAGES = {"en": "en", "es": "es-MX", "es-mx": "es-MX", "fr": "fr-CA", "fr-ca": "fr-CA"}
# Runtime libraries WeasyPrint loads with cffi, and the Debian packages that ship them.
RUNTIME_PACKAGES = "libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"

# CSF 2.0 subcategories this report gives evidence for (ids checked against the NIST catalog),
# each with what in the report supports it.
CSF_SUBCATEGORIES: tuple[tuple[str, str], ...] = (
    ("ID.AM-01", N_("Hardware inventory: every active asset is counted per sector and zone.")),
    ("ID.AM-02", N_("Software inventory: findings are matched to the software on each asset.")),
    ("ID.AM-05", N_("Assets prioritised by criticality: criticality multiplies the score.")),
    ("ID.AM-08", N_("Life cycle: retired assets leave the score.")),
    ("ID.RA-01", N_("Vulnerabilities identified and recorded: open findings by severity.")),
    ("ID.RA-05", N_("Likelihood and impact combined into a risk score per sector and zone.")),
    ("ID.RA-06", N_("Risk responses prioritised and tracked: findings to act on, accepted risks.")),
    ("PR.PS-02", N_("Software maintained commensurate with risk: due dates and overdue work.")),
    ("PR.PS-03", N_("Hardware maintained commensurate with risk: due dates and overdue work.")),
)

TITLE = N_("Cyber risk report")
PAGE_OF = N_("Page %(page)s of %(pages)s")
_DECISION_LABELS = {d.value: d.label for d in Decision} | {UNDECIDED: N_("Not prioritised")}
_SEVERITY_LABELS = {s.value: s.label for s in Severity} | {UNRATED: N_("Not rated")}


class PdfRendererMissing(CivicShieldError):
    """WeasyPrint or one of the system libraries it loads is not installed."""

    title = "PDF renderer unavailable"
    status = 503
    slug = "pdf-unavailable"


@dataclass(frozen=True)
class TrendChange:
    """The city score now against the last snapshot at least 30 days old."""

    direction: str  # up / down / same / none (no snapshot that old)
    delta: float = 0.0
    then_score: float = 0.0
    then_day: date | None = None


def report_language(language: str) -> str:
    """`es` → `es-MX`, `fr` → `fr-CA`; an unknown language is refused by name."""
    found = _LANGUAGES.get(language.strip().lower().replace("_", "-"))
    if found is None:
        known = ", ".join(sorted(_LANGUAGES))
        raise Invalid(
            f"unknown report language {language!r}",
            [FieldError(("language",), f"must be one of {known}")],
        )
    return found


def trend_change(summary: RiskSummary, trend: RiskTrend, *, days: int = 30) -> TrendChange:
    then = summary.day - timedelta(days=days)
    older = [p for p in trend.series.get("city", []) if p.day <= then]
    if not older:
        return TrendChange("none")
    point = older[-1]
    delta = round(summary.city.score - point.score, 1)
    direction = "same" if abs(delta) < 1 else ("up" if delta > 0 else "down")
    return TrendChange(direction, abs(delta), point.score, point.day)


def _css_string(text: str) -> Markup:
    """A CSS string literal; safe inside <style> (no quote, backslash or tag can break out)."""
    cleaned = re.sub(r"[\r\n\f]+", " ", text)  # a newline would end the string early
    cleaned = cleaned.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ")
    return Markup(f'"{cleaned}"')  # noqa: S704 - escaped for CSS just above


def _css_page_counter(page_of: str) -> Markup:
    """ "Page %(page)s of %(pages)s" → "Page " counter(page) " of " counter(pages)."""
    parts: list[str] = []
    for piece in re.split(r"(%\((?:page|pages)\)s)", page_of):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(str(_css_string(piece)))
    return Markup(" ".join(parts) or '""')  # noqa: S704 - built from _css_string pieces


def _context(
    summary: RiskSummary,
    trend: RiskTrend,
    *,
    language: str,
    city_name: str,
    generated_at: datetime,
    formula: RiskFormula,
) -> dict[str, Any]:
    locale = babel_locale(language)

    def fmt_date(value: date | None, fmt: str = "medium") -> str:
        return "" if value is None else format_date(value, format=fmt, locale=locale)

    def fmt_number(value: float, digits: int = 1) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=locale)

    def sector_label(key: str) -> str:
        try:
            return Sector(key).label
        except ValueError:
            return key

    month_ago = summary.day - timedelta(days=30)
    past = {}
    for key, points in trend.series.items():
        older = [p for p in points if p.day <= month_ago]
        if older:
            past[key] = older[-1]
    translations = load_translations(language)
    page_of = translations.gettext(PAGE_OF)
    title = translations.gettext(TITLE)
    return {
        "summary": summary,
        "trend": trend,
        "change": trend_change(summary, trend),
        "past": past,
        "month_ago": month_ago,
        "footer_left": _css_string(f"{city_name} · {title}"),
        "footer_right": _css_page_counter(page_of),
        "city_name": city_name,
        "generated_at": generated_at,
        "language": language,
        "formula": formula,
        "bands": list(RiskBand),
        "csf": CSF_SUBCATEGORIES,
        "decision_labels": _DECISION_LABELS,
        "severity_labels": _SEVERITY_LABELS,
        "sector_label": sector_label,
        "fmt_date": fmt_date,
        "fmt_number": fmt_number,
    }


def render_risk_report_html(
    summary: RiskSummary,
    trend: RiskTrend,
    *,
    language: str,
    city_name: str,
    generated_at: datetime,
    tz: str,
    formula: RiskFormula = FORMULA,
) -> str:
    """The report as one HTML document with embedded CSS (no external resources)."""
    lang = report_language(language)
    context = _context(
        summary, trend, language=lang, city_name=city_name, generated_at=generated_at,
        formula=formula,
    )  # fmt: skip
    return DocumentRenderer([DOCUMENTS]).render(TEMPLATE, context, language=lang, timezone=tz)


def _missing_library(exc: BaseException) -> str:
    found = re.search(r"cannot load library '([^']+)'", str(exc))
    return found.group(1) if found else "Pango (libpango-1.0-0)"


def render_risk_report_pdf(
    summary: RiskSummary,
    trend: RiskTrend,
    *,
    language: str,
    city_name: str,
    generated_at: datetime,
    tz: str,
    formula: RiskFormula = FORMULA,
) -> bytes:
    """The report as an A4 PDF. Raises `PdfRendererMissing` naming the missing library."""
    html = render_risk_report_html(
        summary, trend, language=language, city_name=city_name, generated_at=generated_at,
        tz=tz, formula=formula,
    )  # fmt: skip
    try:
        # Lazy: WeasyPrint loads Pango through cffi at import time.
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except ImportError as exc:
        raise PdfRendererMissing(
            f"the Python package WeasyPrint is not installed ({exc}); install the project "
            "with its dependencies"
        ) from exc
    except OSError as exc:
        raise PdfRendererMissing(
            f"WeasyPrint cannot load the system library {_missing_library(exc)}; install the "
            f"Debian packages {RUNTIME_PACKAGES} (scripts/install_system_deps.sh --runtime)"
        ) from exc

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        """The report is self-contained: any fetch would be a leak or a bug."""

        def fetch(self, url: str, headers: object = None) -> Any:
            raise ValueError(f"the risk report fetches nothing (asked for {url[:80]!r})")

    pdf: bytes = HTML(string=html, base_url=None, url_fetcher=RefuseAll()).write_pdf()
    return pdf
