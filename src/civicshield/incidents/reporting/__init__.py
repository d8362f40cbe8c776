"""Case timeline (with legal deadlines as markers) and its exports, the incident report with
reusable recommendation blocks, and response metrics (MTTD/MTTR)."""

from __future__ import annotations

from civicshield.incidents.reporting.export import (
    safe_cell,
    timeline_csv,
    timeline_html,
    timeline_json,
    timeline_rows,
)
from civicshield.incidents.reporting.markers import legal_markers
from civicshield.incidents.reporting.metrics import (
    UNCLASSIFIED,
    MetricRow,
    Metrics,
    compute_metrics,
)
from civicshield.incidents.reporting.recommendations import (
    Recommendation,
    load_recommendations,
    pick,
    suggested,
)
from civicshield.incidents.reporting.report import (
    REPORT_LANGUAGES,
    ReportPdfUnavailable,
    condensed,
    render_case_report_html,
    render_case_report_pdf,
    report_language,
)
from civicshield.incidents.reporting.timeline import (
    TIMELINE_KINDS,
    Marker,
    TimelineEntry,
    build_timeline,
)

__all__ = [
    "REPORT_LANGUAGES",
    "TIMELINE_KINDS",
    "UNCLASSIFIED",
    "Marker",
    "MetricRow",
    "Metrics",
    "Recommendation",
    "ReportPdfUnavailable",
    "TimelineEntry",
    "build_timeline",
    "compute_metrics",
    "condensed",
    "legal_markers",
    "load_recommendations",
    "pick",
    "render_case_report_html",
    "render_case_report_pdf",
    "report_language",
    "safe_cell",
    "suggested",
    "timeline_csv",
    "timeline_html",
    "timeline_json",
    "timeline_rows",
]
