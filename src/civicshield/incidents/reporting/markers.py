"""The legal deadlines of a case as timeline markers, from the legal-clock views when that
package is present (it is built beside this one; without it a timeline simply has no markers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from civicshield.core.settings import Settings
from civicshield.incidents.cases import Scope
from civicshield.incidents.reporting.timeline import Marker

__all__ = ["legal_markers"]


def legal_markers(
    session: Session,
    case_id: int,
    *,
    now: datetime,
    settings: Settings,
    scope: Scope = None,
    lang: str = "en",
) -> list[Marker]:
    """One marker per clock with a deadline; an internal target says so in its label."""
    try:
        from civicshield.incidents.legal import case_clocks
    except ImportError:
        return []
    short = lang.split("-")[0]
    out: list[Marker] = []
    views = case_clocks(session, case_id, now=now, settings_or_config=settings, scope=scope)
    for view in views:
        if view.due_at is None:
            continue
        label = view.title.get(short) or view.title.get("en") or view.obligation_id
        if view.kind == "internal-target":
            label += " (internal target)"
        out.append(Marker(at=view.due_at, label=label, status=view.status))
    return out
