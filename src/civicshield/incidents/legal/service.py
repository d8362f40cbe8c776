"""Clocks on a case: start one (an obligation of a profile the city offers, with its internal
target and hold policy fixed at that moment), withdraw one with a reason, suggest those the
case's playbook lists, and record start events (each its own audited timestamp; a correction is
a new row naming the one it corrects, never an edit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, FieldError, Invalid
from civicshield.incidents.cases import Scope
from civicshield.incidents.clocks import START_EVENTS, parse_local
from civicshield.incidents.legal._common import in_scope, note_change
from civicshield.incidents.legal.config import LegalConfig
from civicshield.incidents.legal.schemas import (
    ClockRead,
    ClockSuggestion,
    StartEventCreate,
    StartEventRead,
)
from civicshield.incidents.models import CaseClock, CaseStartEvent
from civicshield.incidents.playbooks import load_playbooks
from civicshield.incidents.schemas import CaseStatus

__all__ = [
    "list_start_events",
    "record_start_event",
    "start_clock",
    "suggest_clocks",
    "with_corrections",
    "withdraw_clock",
]


def start_clock(
    session: Session,
    case_id: int,
    obligation_id: str,
    *,
    config: LegalConfig,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> ClockRead:
    """Run the obligation's clock on the case; starting a running one changes nothing, a
    withdrawn one runs again (its withdrawal stays in the history)."""
    case = in_scope(session, case_id, scope)
    if case.status == CaseStatus.CLOSED.value:
        raise Conflict(f"case {case.id} is closed; reopen it before starting a clock")
    ob = config.obligation(obligation_id)
    row = session.scalar(
        select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.obligation_id == ob.id)
    )
    if row is not None and row.withdrawn_at is None:
        return ClockRead.model_validate(row)
    profile = config.profiles[ob.profile_id]
    now = clock.now()
    if row is None:
        row = CaseClock(case_id=case.id, obligation_id=ob.id)
        session.add(row)
    row.profile_version = profile.version
    row.policy = config.hold_policy
    row.target_hours = ob.deadline.target_hours
    row.added_at, row.added_by = now, actor.label
    row.withdrawn_at, row.withdrawn_by, row.withdrawn_reason = None, "", ""
    note_change(
        session, case, "clock", None, ob.id, actor=actor, clock=clock,
        action="case.clock.start", summary=f"clock {ob.id} started",
    )  # fmt: skip
    return ClockRead.model_validate(row)


def withdraw_clock(
    session: Session,
    case_id: int,
    obligation_id: str,
    reason: str,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> ClockRead:
    """Stop a clock without deleting it; the reason is required and kept."""
    case = in_scope(session, case_id, scope)
    if not reason.strip():
        raise Invalid(
            "withdrawing a clock needs a reason", [FieldError(("body", "reason"), "required")]
        )
    row = session.scalar(
        select(CaseClock).where(
            CaseClock.case_id == case.id, CaseClock.obligation_id == obligation_id
        )
    )
    if row is None or row.withdrawn_at is not None:
        raise Conflict(f"clock {obligation_id} is not running on case {case.id}")
    row.withdrawn_at, row.withdrawn_by = clock.now(), actor.label
    row.withdrawn_reason = reason.strip()
    note_change(
        session, case, "clock", obligation_id, None, actor=actor, clock=clock,
        action="case.clock.withdraw", summary=f"clock {obligation_id} withdrawn",
        reason=row.withdrawn_reason,
    )  # fmt: skip
    return ClockRead.model_validate(row)


def suggest_clocks(
    session: Session, case_id: int, *, config: LegalConfig, scope: Scope = None
) -> list[ClockSuggestion]:
    """The clocks the case's playbook lists (with the condition that decides each), limited to
    the profiles the city offers; empty while no playbook is applied."""
    case = in_scope(session, case_id, scope)
    playbook = load_playbooks().get(case.playbook_id) if case.playbook_id else None
    if playbook is None:
        return []
    running = set(
        session.scalars(
            select(CaseClock.obligation_id).where(
                CaseClock.case_id == case.id, CaseClock.withdrawn_at.is_(None)
            )
        )
    )
    offered = set(config.obligation_ids())
    return [
        ClockSuggestion(
            obligation_id=rule.obligation,
            condition=rule.condition,
            note=rule.note.model_dump(),
            started=rule.obligation in running,
        )
        for rule in playbook.clocks
        if rule.obligation in offered
    ]


def _instant(data: StartEventCreate) -> tuple[datetime, str]:
    if data.zone:
        found = parse_local(data.at, data.zone, accept_earlier=data.accept_earlier)
        return found.utc, data.zone
    try:
        at = datetime.fromisoformat(data.at)
    except ValueError as exc:
        raise Invalid(
            f"{data.at!r} is not a date and time: write e.g. 2026-03-08T01:30-05:00",
            [FieldError(("body", "at"), "not an ISO 8601 date and time")],
        ) from exc
    if at.tzinfo is None or at.utcoffset() is None:
        raise Invalid(
            f"{data.at} has no offset: give the offset, or the time zone it is local to",
            [FieldError(("body", "zone"), "a local time needs its IANA time zone")],
        )
    return at.astimezone(UTC), "UTC"


def record_start_event(
    session: Session,
    case_id: int,
    data: StartEventCreate,
    *,
    config: LegalConfig,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> StartEventRead:
    case = in_scope(session, case_id, scope)
    if data.kind not in START_EVENTS:
        raise Invalid(
            f"unknown start event {data.kind!r}",
            [FieldError(("body", "kind"), f"use one of: {', '.join(START_EVENTS)}")],
        )
    if data.obligation_id:
        config.obligation(data.obligation_id)
    if data.corrects is not None:
        earlier = session.get(CaseStartEvent, data.corrects)
        if earlier is None or earlier.case_id != case.id:
            raise Invalid(
                f"start event {data.corrects} is not one of case {case.id}'s",
                [FieldError(("body", "corrects"), "not a start event of this case")],
            )
    at, zone = _instant(data)
    if at > clock.now():
        raise Invalid(
            f"{data.at} is in the future: a start event records what already happened",
            [FieldError(("body", "at"), "in the future")],
        )
    row = CaseStartEvent(
        case_id=case.id, kind=data.kind, obligation_id=data.obligation_id or None, at=at,
        zone=zone, note=data.note, corrects=data.corrects, recorded_at=clock.now(),
        recorded_by=actor.label,
    )  # fmt: skip
    session.add(row)
    session.flush()
    what = f"{data.kind}{f' ({data.obligation_id})' if data.obligation_id else ''}"
    fix = f", correcting #{data.corrects}" if data.corrects else ""
    note_change(
        session, case, "start_event", None, f"{what} at {at.isoformat()}", actor=actor,
        clock=clock, action="case.start_event", summary=f"start event {what}{fix}",
        reason=data.note,
    )  # fmt: skip
    return StartEventRead.model_validate(row)


def list_start_events(
    session: Session, case_id: int, *, scope: Scope = None
) -> list[StartEventRead]:
    """Every start event of the case in the order recorded, with what corrects what."""
    case = in_scope(session, case_id, scope)
    rows = list(
        session.scalars(
            select(CaseStartEvent)
            .where(CaseStartEvent.case_id == case.id)
            .order_by(CaseStartEvent.id)
        )
    )
    return with_corrections(rows)


def with_corrections(rows: Sequence[CaseStartEvent]) -> list[StartEventRead]:
    """The start events as read models, each pointing at the event that corrects it."""
    later = {r.corrects: r.id for r in rows if r.corrects is not None}
    return [
        StartEventRead.model_validate(r).model_copy(update={"corrected_by": later.get(r.id)})
        for r in rows
    ]
