"""A case's timeline: one ordered list of what happened (alerts, analyst actions, tasks done or
skipped, start events, assessments, holds, reminders, notices sent, register versions, evidence
and its custody, observables) and the legal deadlines as markers.

The markers are passed in (`Marker`), because the legal clocks are computed elsewhere; this
module only reads the append-only tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import alerts
from civicshield.core.clock import as_utc
from civicshield.core.errors import NotFound
from civicshield.incidents.cases import Scope, load_case
from civicshield.incidents.models import (
    CaseAlert,
    CaseAssessment,
    CaseChange,
    CaseHold,
    CaseNotice,
    CaseReminder,
    CaseStartEvent,
    CaseTask,
    CustodyEntry,
    Evidence,
    RegisterEntry,
)

__all__ = ["TIMELINE_KINDS", "Marker", "TimelineEntry", "build_timeline"]

TIMELINE_KINDS: tuple[str, ...] = (
    "alert", "action", "task", "start_event", "assessment", "hold", "notice", "reminder",
    "register", "evidence", "custody", "observable", "deadline",
)  # fmt: skip


@dataclass(frozen=True)
class Marker:
    """A legal deadline drawn on the timeline (`status`: e.g. due, overdue, met, paused)."""

    at: datetime
    label: str
    status: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime  # UTC
    kind: str  # one of TIMELINE_KINDS
    actor: str
    summary: str
    link: str = ""
    marker: bool = False  # a deadline, not something that happened


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _alerts(session: Session, case_id: int, scope: Scope) -> Iterable[TimelineEntry]:
    base = f"/incidents/{case_id}"
    for link in session.scalars(select(CaseAlert).where(CaseAlert.case_id == case_id)):
        try:
            a = alerts.get_alert(session, link.alert_id, scope=scope)
        except NotFound:
            continue  # outside the reader's sectors
        url = f"/alerts/{a.id}"
        yield TimelineEntry(
            as_utc(a.first_seen), "alert", "", f"alert #{a.id} first seen: {a.rule_title}", url
        )
        if a.last_seen != a.first_seen:
            yield TimelineEntry(
                as_utc(a.last_seen), "alert", "", f"alert #{a.id} last seen ({a.count} events)", url
            )
        yield TimelineEntry(
            as_utc(link.added_at),
            "alert",
            link.added_by,
            f"alert #{a.id} added to the case",
            f"{base}#alerts",
        )


def _records(session: Session, case_id: int) -> Iterable[TimelineEntry]:
    base = f"/incidents/{case_id}"
    for h in session.scalars(select(CaseChange).where(CaseChange.case_id == case_id)):
        kind = "observable" if h.field == "observable" else "action"
        text = f"{h.field}: {_shown(h.old)} → {_shown(h.new)}"
        yield TimelineEntry(
            as_utc(h.at),
            kind,
            h.actor,
            text + (f" ({h.reason})" if h.reason else ""),
            f"{base}#history",
        )
    for t in session.scalars(select(CaseTask).where(CaseTask.case_id == case_id)):
        if t.status in ("done", "skipped") and t.done_at is not None:
            yield TimelineEntry(
                as_utc(t.done_at),
                "task",
                t.done_by,
                f"task {t.status}: {t.title}",
                f"{base}#task-{t.id}",
            )
    for s in session.scalars(select(CaseStartEvent).where(CaseStartEvent.case_id == case_id)):
        fix = f" (corrects #{s.corrects})" if s.corrects else ""
        yield TimelineEntry(
            as_utc(s.at),
            "start_event",
            s.recorded_by,
            f"start event {s.kind}{fix}: {s.note}".rstrip(": "),
            f"{base}#clocks",
        )
    for a in session.scalars(select(CaseAssessment).where(CaseAssessment.case_id == case_id)):
        verdict = "met" if a.met else "not met"
        yield TimelineEntry(
            as_utc(a.assessed_at),
            "assessment",
            a.assessed_by,
            f"assessment {a.requirement}: {verdict}",
            f"{base}#clocks",
        )
    for hold in session.scalars(select(CaseHold).where(CaseHold.case_id == case_id)):
        yield TimelineEntry(
            as_utc(hold.start),
            "hold",
            hold.recorded_by,
            f"hold started ({hold.authority}): {hold.reason}",
            f"{base}#clocks",
        )
        if hold.end is not None:
            yield TimelineEntry(
                as_utc(hold.end), "hold", hold.lifted_by, "hold lifted", f"{base}#clocks"
            )
    for n in session.scalars(select(CaseNotice).where(CaseNotice.case_id == case_id)):
        if n.sent_at is not None:
            yield TimelineEntry(
                as_utc(n.sent_at),
                "notice",
                n.sent_by,
                f"notice {n.obligation_id} sent to {n.recipient} by {n.channel}",
                f"{base}#notices",
            )
    for r in session.scalars(select(CaseReminder).where(CaseReminder.case_id == case_id)):
        yield TimelineEntry(
            as_utc(r.raised_at),
            "reminder",
            "",
            f"reminder level {r.level} for {r.obligation_id} ({r.reason})",
            f"{base}#clocks",
        )
    for e in session.scalars(select(RegisterEntry).where(RegisterEntry.case_id == case_id)):
        yield TimelineEntry(
            as_utc(e.recorded_at),
            "register",
            e.recorded_by,
            f"register entry version {e.version}",
            f"{base}#notices",
        )
    for ev in session.scalars(select(Evidence).where(Evidence.case_id == case_id)):
        custody = session.scalars(select(CustodyEntry).where(CustodyEntry.evidence_id == ev.id))
        for c in custody:
            kind = "evidence" if c.action == "upload" else "custody"
            text = f"evidence {ev.filename}: {c.action}" + (f" ({c.detail})" if c.detail else "")
            yield TimelineEntry(as_utc(c.at), kind, c.actor, text, f"{base}#evidence")


def build_timeline(
    session: Session,
    case_id: int,
    *,
    scope: Scope = None,
    markers: Sequence[Marker] = (),
    kinds: Sequence[str] = (),
) -> list[TimelineEntry]:
    """Every entry of the case, oldest first (ties keep a stable order); `kinds` keeps only
    those kinds ("deadline" for the markers)."""
    load_case(session, case_id, scope)
    entries = [*_alerts(session, case_id, scope), *_records(session, case_id)]
    entries += [
        TimelineEntry(
            as_utc(m.at),
            "deadline",
            "",
            f"{m.label} ({m.status})",
            f"/incidents/{case_id}#clocks",
            marker=True,
        )
        for m in markers
    ]
    if kinds:
        entries = [e for e in entries if e.kind in kinds]
    order = {k: i for i, k in enumerate(TIMELINE_KINDS)}
    return sorted(entries, key=lambda e: (e.at, order.get(e.kind, 99)))
