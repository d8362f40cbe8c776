"""What each clock of a case says now: its start (or the event it waits for), the state of the
assessments it requires, the deadline in UTC and in the city's zone, holds, status and the
escalating reminders. `clocks_due` gathers the running clocks of every open case in scope."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.core.clock import as_utc
from civicshield.core.settings import Settings
from civicshield.incidents.cases import Scope
from civicshield.incidents.clocks import (
    REGISTER_OBLIGATIONS,
    StartEvent,
    Suspension,
    compute,
    display,
    pick_start,
    reminders,
    status,
)
from civicshield.incidents.legal._common import in_scope
from civicshield.incidents.legal.config import LegalConfig, config_of
from civicshield.incidents.legal.schemas import (
    AssessmentRead,
    HoldRead,
    ReminderRead,
    StartEventRead,
)
from civicshield.incidents.legal.service import with_corrections
from civicshield.incidents.models import (
    Case,
    CaseAssessment,
    CaseClock,
    CaseHold,
    CaseNotice,
    CaseReminder,
    CaseStartEvent,
    RegisterEntry,
)
from civicshield.incidents.schemas import CaseStatus

__all__ = ["ClockView", "DueClock", "ReminderView", "RequirementState", "case_clocks", "clocks_due"]

_Row = TypeVar("_Row", CaseClock, CaseStartEvent, CaseAssessment, CaseHold, CaseReminder)
ACTIVE = ("running", "due-soon", "overdue", "suspended")


class RequirementState(BaseModel):
    requirement: str
    state: str  # "met", "not-met" or "not-assessed"
    assessment: AssessmentRead | None = None


class ReminderView(BaseModel):
    level: int
    at: datetime
    reason: str
    channels: list[str]
    raised: ReminderRead | None = None


class ClockView(BaseModel):
    case_id: int
    obligation_id: str
    profile_id: str
    profile_version: str
    title: dict[str, str]
    article: str
    recipient: dict[str, str]
    kind: str  # "statutory" or "internal-target" (never present the latter as a legal deadline)
    wording: str | None
    target_hours: float | None
    start_event: str
    start: StartEventRead | None
    waiting_for: str | None
    requirements: list[RequirementState]
    not_required: bool
    precaution: bool  # a required assessment is missing: the clock runs as a precaution
    due_at: datetime | None
    due_local: str | None
    local_calendar_due: datetime | None
    local_calendar_local: str | None
    remaining_at_hold: timedelta | None
    holds: list[HoldRead]
    notes: list[str]
    sent_at: datetime | None
    status: str  # clocks.status, or "waiting", "not-required", "withdrawn"
    reminders: list[ReminderView]
    withdrawn_at: datetime | None
    withdrawn_reason: str


class DueClock(BaseModel):
    case_id: int
    case_title: str
    clock: ClockView


def _sent(session: Session, case_id: int) -> dict[str, datetime]:
    rows = session.execute(
        select(CaseNotice.obligation_id, func.min(CaseNotice.sent_at))
        .where(CaseNotice.case_id == case_id, CaseNotice.status == "sent")
        .group_by(CaseNotice.obligation_id)
    ).all()
    out = {ob: as_utc(at) for ob, at in rows if at is not None}
    first = session.scalar(
        select(func.min(RegisterEntry.recorded_at)).where(RegisterEntry.case_id == case_id)
    )
    if first is not None:
        for ob in REGISTER_OBLIGATIONS:
            out.setdefault(ob, as_utc(first))
    return out


def _rows(session: Session, model: type[_Row], case_id: int) -> list[_Row]:
    stmt = select(model).where(model.case_id == case_id).order_by(model.id)
    return list(session.scalars(stmt))


def _requirements(
    needs: Sequence[str], latest: dict[str, AssessmentRead]
) -> list[RequirementState]:
    out = []
    for req in needs:
        found = latest.get(req)
        state = "not-assessed" if found is None else ("met" if found.met else "not-met")
        out.append(RequirementState(requirement=req, state=state, assessment=found))
    return out


def _case_views(
    session: Session, case: Case, *, now: datetime, config: LegalConfig
) -> list[ClockView]:
    clocks = _rows(session, CaseClock, case.id)
    if not clocks:
        return []
    events = [
        e
        for e in with_corrections(_rows(session, CaseStartEvent, case.id))
        if e.corrected_by is None
    ]
    latest = {
        a.requirement: a
        for a in map(AssessmentRead.model_validate, _rows(session, CaseAssessment, case.id))
    }
    holds = [HoldRead.model_validate(h) for h in _rows(session, CaseHold, case.id)]
    raised: dict[tuple[str, int, datetime], ReminderRead] = {
        (r.obligation_id, r.level, as_utc(r.due_at)): ReminderRead.model_validate(r)
        for r in _rows(session, CaseReminder, case.id)
    }
    sent = _sent(session, case.id)
    return [
        _view(case, c, events, latest, holds, raised, sent, now=now, config=config)
        for c in clocks
        if c.obligation_id in config.obligation_ids()
    ]


def _same(event: StartEventRead, picked: StartEvent) -> bool:
    return (event.kind, as_utc(event.at), event.obligation_id) == (
        picked.kind, picked.at, picked.obligation,
    )  # fmt: skip


def _shown(at: datetime | None, zone: str) -> str | None:
    return display(at, zone) if at is not None else None


def _view(
    case: Case,
    row: CaseClock,
    events: list[StartEventRead],
    latest: dict[str, AssessmentRead],
    holds: list[HoldRead],
    raised: dict[tuple[str, int, datetime], ReminderRead],
    sent: dict[str, datetime],
    *,
    now: datetime,
    config: LegalConfig,
) -> ClockView:
    ob = config.obligation(row.obligation_id)
    if row.target_hours is not None and ob.deadline.target_hours is not None:
        # the target fixed when the clock started, not today's setting
        ob = ob.model_copy(
            update={"deadline": ob.deadline.model_copy(update={"target_hours": row.target_hours})}
        )
    picked = pick_start(ob, [StartEvent(e.kind, as_utc(e.at), e.obligation_id) for e in events])
    start = None
    if picked is not None:
        start = next(e for e in events if _same(e, picked))
    reqs = _requirements(ob.requires, latest)
    not_met = [r for r in reqs if r.state == "not-met"]
    mine = [h for h in holds if h.obligation_id in (None, ob.id)] if ob.suspendable else []
    suspensions = [
        Suspension(as_utc(h.start), as_utc(h.end) if h.end else None, h.reason, h.authority,
                   datetime.fromisoformat(h.review_on).date())
        for h in mine
    ]  # fmt: skip
    due = None
    if picked is not None:
        due = compute(ob, picked.at, suspensions=suspensions, policy=row.policy, zone=config.zone)  # type: ignore[arg-type]
    sent_at = sent.get(ob.id)
    if row.withdrawn_at is not None:
        state = "withdrawn"
    elif sent_at is not None and due is not None:
        state = status(due, now, sent_at)
    elif not_met:
        state = "not-required"
    elif due is None:
        state = "waiting"
    else:
        state = status(due, now)
    views = []
    if due is not None and state in ACTIVE:
        for r in reminders(due):
            key = (ob.id, r.level, due.due_at) if due.due_at else None
            views.append(
                ReminderView(
                    level=r.level, at=r.at, reason=r.reason, channels=list(r.channels),
                    raised=raised.get(key) if key else None,
                )
            )  # fmt: skip
    applied = {id(s) for s in due.suspensions} if due else set()
    return ClockView(
        case_id=case.id, obligation_id=ob.id, profile_id=ob.profile_id,
        profile_version=row.profile_version, title=ob.title.model_dump(), article=ob.article,
        recipient=ob.recipient.model_dump(), kind=ob.kind, wording=ob.deadline.wording,
        target_hours=ob.deadline.target_hours, start_event=ob.start_event, start=start,
        waiting_for=None if start else ob.start_event, requirements=reqs,
        not_required=bool(not_met), precaution=any(r.state == "not-assessed" for r in reqs),
        due_at=due.due_at if due else None,
        due_local=_shown(due.due_at if due else None, config.zone),
        local_calendar_due=due.local_calendar_due if due else None,
        local_calendar_local=_shown(due.local_calendar_due if due else None, config.zone),
        remaining_at_hold=due.remaining_at_hold if due else None,
        holds=[h for h, s in zip(mine, suspensions, strict=True) if id(s) in applied],
        notes=list(due.notes) if due else [], sent_at=sent_at, status=state, reminders=views,
        withdrawn_at=row.withdrawn_at, withdrawn_reason=row.withdrawn_reason,
    )  # fmt: skip


def case_clocks(
    session: Session,
    case_id: int,
    *,
    now: datetime,
    settings_or_config: Settings | LegalConfig,
    scope: Scope = None,
) -> list[ClockView]:
    """Every clock of the case (withdrawn ones too, marked so), in the order started."""
    case = in_scope(session, case_id, scope)
    return _case_views(session, case, now=now, config=config_of(settings_or_config))


def clocks_due(
    session: Session,
    *,
    now: datetime,
    within: timedelta | None,
    settings_or_config: Settings | LegalConfig,
    scope: Scope = None,
) -> list[DueClock]:
    """The running clocks of every open case in scope: overdue first, then soonest; with
    `within`, only those due before `now + within` (overdue included)."""
    config = config_of(settings_or_config)
    cases = session.scalars(
        select(Case).where(
            Case.status != CaseStatus.CLOSED.value,
            Case.id.in_(select(CaseClock.case_id).where(CaseClock.withdrawn_at.is_(None))),
        )
    )
    allowed = None if scope is None else {s.value for s in scope}
    out: list[DueClock] = []
    for case in cases:
        if allowed is not None and not set(case.sectors) & allowed:
            continue
        for view in _case_views(session, case, now=now, config=config):
            if view.status not in ACTIVE:
                continue
            if within is not None and (view.due_at is None or view.due_at > now + within):
                continue
            out.append(DueClock(case_id=case.id, case_title=case.title, clock=view))
    far = now + timedelta(days=36500)
    out.sort(key=lambda d: (d.clock.status != "overdue", d.clock.due_at or far, d.case_id))
    return out
