"""The timeline as CSV (spreadsheet-safe), JSON and a printable HTML page."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from civicshield.core.templating import DocumentRenderer
from civicshield.incidents.reporting.timeline import TimelineEntry

__all__ = ["safe_cell", "timeline_csv", "timeline_html", "timeline_json", "timeline_rows"]

DOCUMENTS = Path(__file__).resolve().parent / "documents"
_COLUMNS = ("at", "kind", "actor", "summary", "link", "marker")
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """The text with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA) else value


def timeline_rows(entries: Sequence[TimelineEntry]) -> list[dict[str, Any]]:
    return [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "actor": e.actor,
            "summary": e.summary,
            "link": e.link,
            "marker": e.marker,
        }
        for e in entries
    ]


def timeline_csv(entries: Sequence[TimelineEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_COLUMNS)
    for row in timeline_rows(entries):
        writer.writerow(
            [safe_cell(str(row[c]).lower() if c == "marker" else str(row[c])) for c in _COLUMNS]
        )
    return out.getvalue()


def timeline_json(case_id: int, entries: Sequence[TimelineEntry]) -> str:
    return json.dumps(
        {"case_id": case_id, "entries": timeline_rows(entries)}, ensure_ascii=False, indent=2
    )


def timeline_html(
    case_id: int, title: str, entries: Sequence[TimelineEntry], *, language: str = "en",
    tz: str = "UTC",
) -> str:  # fmt: skip
    """A self-contained printable page (no scripts, no external resources)."""
    return DocumentRenderer([DOCUMENTS]).render(
        "timeline_print.html",
        {"case_id": case_id, "title": title, "entries": entries},
        language=language,
        timezone=tz,
    )
