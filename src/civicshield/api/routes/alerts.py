"""`/api/v1/alerts`: the alert queue (alerts:read), triage (alerts:triage) and suppressions
(alerts:suppress). Sector operators see and triage only their sectors' alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import BaseModel, Field

from civicshield import alerts, assets
from civicshield.accounts import Permission
from civicshield.alerts import (
    AlertChangeRead,
    AlertDetail,
    AlertFilter,
    AlertGroup,
    AlertRead,
    AlertStatus,
    SuppressionCreate,
    SuppressionRead,
    TriageRequest,
)
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.core import Sector, Severity

__all__ = ["router"]

router = resource_router("/alerts", "alerts")
READ = [Depends(require(Permission.ALERTS_READ))]
TRIAGE = [Depends(require(Permission.ALERTS_TRIAGE))]
SUPPRESS = [Depends(require(Permission.ALERTS_SUPPRESS))]


def alert_filter(
    since: Annotated[datetime | None, Query(description="Last event at or after.")] = None,
    until: Annotated[datetime | None, Query(description="First event at or before.")] = None,
    severity: Annotated[list[Severity] | None, Query(description="Any of these.")] = None,
    min_severity: Annotated[Severity | None, Query(description="At least this.")] = None,
    sector: Annotated[list[Sector] | None, Query(description="Asset sector.")] = None,
    dataset: Annotated[list[str] | None, Query(description="Event dataset.")] = None,
    status: Annotated[
        list[AlertStatus] | None, Query(description="Default: new, acknowledged, escalated.")
    ] = None,
    technique: Annotated[
        str | None, Query(max_length=20, description="ATT&CK, e.g. T1110.")
    ] = None,
    tactic: Annotated[str | None, Query(max_length=40, description="ATT&CK tactic.")] = None,
    rule_id: Annotated[str | None, Query(max_length=100)] = None,
    asset_id: Annotated[int | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200, description="Rule, asset, key fields.")] = None,
) -> AlertFilter:
    chosen = AlertFilter(
        since=since,
        until=until,
        severities=severity or [],
        min_severity=min_severity,
        sectors=sector or [],
        datasets=dataset or [],
        technique=technique,
        tactic=tactic,
        rule_id=rule_id,
        asset_id=asset_id,
        q=q,
    )
    if status:
        chosen.statuses = status
    return chosen


FilterDep = Annotated[AlertFilter, Depends(alert_filter)]


@router.get("", dependencies=READ, summary="List alerts, newest first")
def list_alerts(
    session: SessionDep, principal: PrincipalDep, pagination: PaginationDep, chosen: FilterDep
) -> Page[AlertRead]:
    page = alerts.list_alerts(
        session,
        chosen,
        limit=pagination.limit,
        offset=pagination.offset,
        scope=assets.scope_of(principal),
    )
    return pagination.page(page.items, page.total)


@router.get("/groups", dependencies=READ, summary="The queue, grouped by rule")
def list_groups(
    session: SessionDep, principal: PrincipalDep, chosen: FilterDep
) -> list[AlertGroup]:
    """One row per rule: alerts, events, statuses and the newest event time."""
    return alerts.list_groups(session, chosen, scope=assets.scope_of(principal))


class TriageResult(BaseModel):
    changed: list[int]
    unchanged: list[int]
    steps: list[int] = []


@router.post("/triage", dependencies=TRIAGE, responses=problems(404, 409), summary="Triage alerts")
def triage(
    body: TriageRequest, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TriageResult:
    """acknowledge, escalate, close (with a resolution) or reopen one or many alerts. 409
    names the alerts whose status cannot move that way (then nothing changes)."""
    result = alerts.triage(
        session,
        body.alert_ids,
        body.action,
        resolution=body.resolution,
        reason=body.reason,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )
    return TriageResult(**result)


class UndoStepsRequest(BaseModel):
    steps: list[int] = Field(min_length=1, max_length=1000, description="From a triage answer.")


@router.post("/undo", dependencies=TRIAGE, summary="Undo a triage action")
def undo_steps(
    body: UndoStepsRequest, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> list[AlertChangeRead]:
    """Reverts exactly the steps a triage call returned; a step whose alert was triaged again
    since (by anyone) is left alone, and not in the answer."""
    return alerts.undo_steps(
        session,
        body.steps,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )


@router.get("/suppressions", dependencies=READ, summary="List suppressions")
def list_suppressions(
    session: SessionDep,
    runtime: RuntimeDep,
    include_inactive: Annotated[bool, Query(description="Removed and expired ones too.")] = False,
) -> list[SuppressionRead]:
    return alerts.list_suppressions(session, clock=runtime.clock, include_inactive=include_inactive)


@router.post(
    "/suppressions", dependencies=SUPPRESS, status_code=201, summary="Suppress similar alerts"
)
def create_suppression(
    body: SuppressionCreate, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> SuppressionRead:
    """Matches of the rule (any rule when `rule_id` is empty) whose fields equal every item of
    `match` raise no alert until `expires_at` (never, when null). Fields: `host.name`,
    `source.ip`, `user.name`, `destination.ip`, `destination.port`, `event.dataset`."""
    return alerts.create_suppression(session, body, actor=principal.actor, clock=runtime.clock)


@router.delete(
    "/suppressions/{suppression_id}",
    dependencies=SUPPRESS,
    status_code=204,
    responses=problems(404),
    summary="Remove a suppression",
)
def delete_suppression(
    suppression_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    alerts.delete_suppression(session, suppression_id, actor=principal.actor, clock=runtime.clock)
    return Response(status_code=204)


@router.get("/{alert_id}", dependencies=READ, responses=problems(404), summary="One alert")
def get_alert(alert_id: int, session: SessionDep, principal: PrincipalDep) -> AlertDetail:
    """With its sample events (raw text), triage history and the "suppress similar" fields."""
    return alerts.get_alert(session, alert_id, scope=assets.scope_of(principal))


class UndoResult(BaseModel):
    undone_step: int
    action: str
    alert: AlertRead


@router.post(
    "/{alert_id}/undo", dependencies=TRIAGE, responses=problems(404), summary="Undo last step"
)
def undo(
    alert_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> UndoResult:
    scope = assets.scope_of(principal)
    step = alerts.undo(session, alert_id, actor=principal.actor, clock=runtime.clock, scope=scope)
    detail = alerts.get_alert(session, alert_id, scope=scope)
    return UndoResult(
        undone_step=step.id, action=step.action, alert=AlertRead(**detail.model_dump())
    )
