"""`/api/v1/incidents/...`: the legal clocks of a case — start or withdraw a clock, record start
events and investigation holds (incidents:manage), risk assessments (incidents:notify: a decision
of the body, with the privacy officer), read each clock's deadline and status (incidents:read),
the clocks due soon across open cases, and acknowledge reminders. Scoped like the cases.

Literal paths (`/incidents/clocks/due`, `/incidents/reminders/...`) live on this router, which is
included before the cases router, so `/incidents/{case_id}` never takes them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Query

from civicshield import assets
from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.incidents.legal import (
    AssessmentCreate,
    AssessmentRead,
    ClockRead,
    ClockStart,
    ClockSuggestion,
    ClockView,
    ClockWithdraw,
    DueClock,
    HoldCreate,
    HoldRead,
    LegalConfig,
    ReminderRead,
    StartEventCreate,
    StartEventRead,
    acknowledge_reminder,
    case_clocks,
    clocks_due,
    lift_hold,
    list_assessments,
    list_holds,
    list_reminders,
    list_start_events,
    place_hold,
    record_assessment,
    record_start_event,
    start_clock,
    suggest_clocks,
    withdraw_clock,
)

__all__ = ["router"]

router = resource_router("/incidents", "incidents")
READ = [Depends(require(Permission.INCIDENTS_READ))]
MANAGE = [Depends(require(Permission.INCIDENTS_MANAGE))]
NOTIFY = [Depends(require(Permission.INCIDENTS_NOTIFY))]


@router.get("/clocks/due", dependencies=READ, summary="Clocks due soon, across open cases")
def due(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    within_hours: Annotated[
        float | None, Query(gt=0, le=24 * 366, description="Due within; none: every one.")
    ] = None,
) -> list[DueClock]:
    """Running clocks of open cases in your scope: overdue first, then soonest."""
    return clocks_due(
        session, now=runtime.clock.now(),
        within=None if within_hours is None else timedelta(hours=within_hours),
        settings_or_config=runtime.settings, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get("/reminders", dependencies=READ, summary="Reminders raised, newest first")
def reminders(
    session: SessionDep,
    principal: PrincipalDep,
    unacknowledged: Annotated[bool, Query(description="Only those not acknowledged.")] = False,
) -> list[ReminderRead]:
    return list_reminders(session, scope=assets.scope_of(principal), unacknowledged=unacknowledged)


@router.post(
    "/reminders/{reminder_id}/acknowledge",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Acknowledge a reminder",
)
def acknowledge(
    reminder_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> ReminderRead:
    return acknowledge_reminder(
        session, reminder_id, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get("/{case_id}/clocks", dependencies=READ, responses=problems(404), summary="Clocks")
def clocks(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> list[ClockView]:
    """Each clock's start (or the event it waits for), requirement state, deadline (UTC and the
    city's zone; `kind` "internal-target" is the city's target, not a statutory deadline),
    holds, status and reminders."""
    return case_clocks(
        session, case_id, now=runtime.clock.now(), settings_or_config=runtime.settings,
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get(
    "/{case_id}/clocks/suggested",
    dependencies=READ,
    responses=problems(404),
    summary="Clocks the case's playbook may start",
)
def suggested(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> list[ClockSuggestion]:
    return suggest_clocks(
        session, case_id, config=LegalConfig.from_settings(runtime.settings),
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post(
    "/{case_id}/clocks",
    dependencies=MANAGE,
    status_code=201,
    responses=problems(404, 409),
    summary="Start a clock",
)
def start(
    case_id: int,
    body: ClockStart,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> ClockRead:
    """422 for an obligation the city does not offer; 409 on a closed case."""
    return start_clock(
        session, case_id, body.obligation_id, config=LegalConfig.from_settings(runtime.settings),
        actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post(
    "/{case_id}/clocks/{obligation_id}/withdraw",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Withdraw a clock (reason required)",
)
def withdraw(
    case_id: int,
    obligation_id: str,
    body: ClockWithdraw,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> ClockRead:
    return withdraw_clock(
        session, case_id, obligation_id, body.reason, actor=principal.actor,
        clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get("/{case_id}/start-events", dependencies=READ, responses=problems(404))
def start_events(
    case_id: int, session: SessionDep, principal: PrincipalDep
) -> list[StartEventRead]:
    """In the order recorded; a corrected one names the row that corrects it (`corrected_by`)."""
    return list_start_events(session, case_id, scope=assets.scope_of(principal))


@router.post(
    "/{case_id}/start-events", dependencies=MANAGE, status_code=201, responses=problems(404)
)
def add_start_event(
    case_id: int,
    body: StartEventCreate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> StartEventRead:
    """`at` in UTC or with its offset, or a local wall time with its IANA `zone`; a time that
    happens twice or never there is refused (422) unless `accept_earlier`."""
    return record_start_event(
        session, case_id, body, config=LegalConfig.from_settings(runtime.settings),
        actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get("/{case_id}/assessments", dependencies=READ, responses=problems(404))
def assessments(case_id: int, session: SessionDep, principal: PrincipalDep) -> list[AssessmentRead]:
    return list_assessments(session, case_id, scope=assets.scope_of(principal))


@router.post(
    "/{case_id}/assessments", dependencies=NOTIFY, status_code=201, responses=problems(404)
)
def add_assessment(
    case_id: int,
    body: AssessmentCreate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> AssessmentRead:
    """Kept even when `met` is false ("do not notify"); the reasoning is required."""
    return record_assessment(
        session, case_id, body, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get("/{case_id}/holds", dependencies=READ, responses=problems(404))
def holds(case_id: int, session: SessionDep, principal: PrincipalDep) -> list[HoldRead]:
    return list_holds(session, case_id, scope=assets.scope_of(principal))


@router.post("/{case_id}/holds", dependencies=MANAGE, status_code=201, responses=problems(404))
def add_hold(
    case_id: int,
    body: HoldCreate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> HoldRead:
    """Reason, authority and review date required; 422 on an obligation that cannot be held."""
    return place_hold(
        session, case_id, body, config=LegalConfig.from_settings(runtime.settings),
        actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post("/{case_id}/holds/{hold_id}/lift", dependencies=MANAGE, responses=problems(404, 409))
def lift(
    case_id: int, hold_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> HoldRead:
    return lift_hold(
        session, case_id, hold_id, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip
