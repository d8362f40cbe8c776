"""The incident report: one self-contained HTML document (embedded CSS, no fetches) and its PDF
(WeasyPrint, imported only when a PDF is asked for), in the reader's language, with the chosen
recommendation blocks.

It gathers what the case holds: summary, condensed timeline, sectors and assets, ATT&CK
techniques, tasks, notices sent, legal clocks (the markers passed in), evidence with hashes and
integrity, observables and lessons learned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import assets
from civicshield.core.errors import CivicShieldError, FieldError, Invalid, NotFound
from civicshield.core.templating import DocumentRenderer
from civicshield.incidents.cases import Scope, get_case
from civicshield.incidents.models import CaseNotice, Evidence
from civicshield.incidents.observables import list_observables
from civicshield.incidents.reporting.recommendations import Recommendation, pick
from civicshield.incidents.reporting.timeline import Marker, TimelineEntry, build_timeline

__all__ = [
    "REPORT_LANGUAGES",
    "ReportPdfUnavailable",
    "condensed",
    "render_case_report_html",
    "render_case_report_pdf",
    "report_language",
]

DOCUMENTS = Path(__file__).resolve().parent / "documents"
REPORT_LANGUAGES = {"en": "en", "es": "es-MX", "es-mx": "es-MX", "fr": "fr-CA", "fr-ca": "fr-CA"}
# The kinds the report's condensed timeline keeps (custody, reminders, observables: elsewhere).
_CONDENSED = ("alert", "action", "task", "start_event", "assessment", "hold", "notice",
              "register", "deadline")  # fmt: skip
_ACTION_FIELDS = ("status", "severity", "owner", "resolution", "playbook")


class ReportPdfUnavailable(CivicShieldError):
    """WeasyPrint or a system library it loads is missing."""

    title = "PDF renderer unavailable"
    status = 503
    slug = "pdf-unavailable"


def report_language(language: str) -> str:
    """`es` → `es-MX`, `fr` → `fr-CA`; an unknown language is refused by name."""
    found = REPORT_LANGUAGES.get(language.strip().lower().replace("_", "-"))
    if found is None:
        raise Invalid(
            f"unknown report language {language!r}",
            [FieldError(("query", "lang"), f"use one of {', '.join(REPORT_LANGUAGES)}")],
        )
    return found


def condensed(entries: Sequence[TimelineEntry]) -> list[TimelineEntry]:
    """The timeline for the report: what matters to a reader, not every field edit."""
    keep = []
    for e in entries:
        if e.kind not in _CONDENSED:
            continue
        if e.kind == "action" and not e.summary.startswith(_ACTION_FIELDS):
            continue
        keep.append(e)
    return keep


def _context(
    session: Session, case_id: int, *, scope: Scope, markers: Sequence[Marker],
    blocks: Sequence[Recommendation], lang: str, lessons: str,
) -> dict[str, Any]:  # fmt: skip
    case = get_case(session, case_id, scope=scope)
    found_assets = []
    for asset_id in case.asset_ids:
        try:
            found_assets.append(assets.get_asset(session, asset_id, scope=scope))
        except NotFound:
            continue
    notices = session.scalars(
        select(CaseNotice)
        .where(CaseNotice.case_id == case_id, CaseNotice.sent_at.is_not(None))
        .order_by(CaseNotice.sent_at)
    ).all()
    evidence = session.scalars(
        select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
    ).all()
    short = lang.split("-")[0]
    return {
        "c": case,
        "language": lang,
        "assets": found_assets,
        "timeline": condensed(build_timeline(session, case_id, scope=scope, markers=markers)),
        "markers": sorted(markers, key=lambda m: m.at),
        "notices": notices,
        "evidence": evidence,
        "observables": list_observables(session, case_id, scope),
        "blocks": [(b.id, b.version, *b.in_language(short)) for b in blocks],
        "lessons": lessons or case.resolution,
    }


def render_case_report_html(
    session: Session,
    case_id: int,
    *,
    scope: Scope = None,
    markers: Sequence[Marker] = (),
    blocks: Sequence[str] = (),
    language: str = "en",
    lessons: str = "",
    generated_at: datetime,
    tz: str = "UTC",
    city_name: str = "",
) -> str:
    lang = report_language(language)
    context = _context(
        session, case_id, scope=scope, markers=markers, blocks=pick(blocks), lang=lang,
        lessons=lessons,
    )  # fmt: skip
    context.update(generated_at=generated_at, city_name=city_name)
    return DocumentRenderer([DOCUMENTS]).render(
        "case_report.html", context, language=lang, timezone=tz
    )


def html_to_pdf(html: str) -> bytes:
    try:
        # Lazy: WeasyPrint loads Pango through cffi at import time.
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except ImportError as exc:
        raise ReportPdfUnavailable(f"the Python package WeasyPrint is missing ({exc})") from exc
    except OSError as exc:
        found = re.search(r"cannot load library '([^']+)'", str(exc))
        name = found.group(1) if found else "Pango (libpango-1.0-0)"
        raise ReportPdfUnavailable(
            f"WeasyPrint cannot load the system library {name}; run "
            "scripts/install_system_deps.sh --runtime"
        ) from exc

    class RefuseAll(URLFetcher):  # type: ignore[misc]
        """The report is self-contained: any fetch would be a leak or a bug."""

        def fetch(self, url: str, headers: object = None) -> Any:
            raise ValueError(f"the incident report fetches nothing (asked for {url[:80]!r})")

    pdf: bytes = HTML(string=html, base_url=None, url_fetcher=RefuseAll()).write_pdf()
    return pdf


def render_case_report_pdf(session: Session, case_id: int, **kwargs: Any) -> bytes:
    """The report as an A4 PDF (same arguments as the HTML)."""
    return html_to_pdf(render_case_report_html(session, case_id, **kwargs))
