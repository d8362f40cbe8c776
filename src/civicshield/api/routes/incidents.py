"""`/api/v1/incidents`: cases (incidents:read to read, incidents:manage to open and change).
Sector operators see and change only the cases touching their sectors."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response
from pydantic import BaseModel, Field

from civicshield import assets, incidents
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.core import Sector
from civicshield.incidents import (
    CaseCreate,
    CaseDetail,
    CaseFromAlerts,
    CaseRead,
    CaseStatus,
    CaseUpdate,
    TaskRead,
)

__all__ = ["router"]

router = resource_router("/incidents", "incidents")
READ = [Depends(require(Permission.INCIDENTS_READ))]
MANAGE = [Depends(require(Permission.INCIDENTS_MANAGE))]


@router.get("", dependencies=READ, summary="List cases, newest first")
def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    pagination: PaginationDep,
    status: Annotated[list[CaseStatus] | None, Query(description="Any of these.")] = None,
    open_only: Annotated[bool, Query(description="Not closed.")] = False,
    sector: Annotated[Sector | None, Query(description="Touching this sector.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the title.")] = None,
) -> Page[CaseRead]:
    page = incidents.list_cases(
        session,
        status=status or [],
        open_only=open_only,
        sector=sector,
        q=q,
        limit=pagination.limit,
        offset=pagination.offset,
        scope=assets.scope_of(principal),
    )
    return pagination.page(page.items, page.total)


@router.post("", dependencies=MANAGE, status_code=201, summary="Open a case by hand")
def create_case(
    body: CaseCreate,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> CaseRead:
    case = incidents.create_case(session, body, actor=principal.actor, clock=runtime.clock)
    response.headers["Location"] = f"/api/v1/incidents/{case.id}"
    return case


@router.post(
    "/from-alerts",
    dependencies=MANAGE,
    status_code=201,
    responses=problems(404, 409),
    summary="Escalate alerts into a case",
)
def from_alerts(
    body: CaseFromAlerts,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> CaseRead:
    """A new case from the alerts (escalating them), or, with `case_id`, the alerts merged into
    that case. 409 when an alert already belongs to another case, or the case is closed."""
    case = incidents.open_from_alerts(
        session, body, actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal)
    )
    response.headers["Location"] = f"/api/v1/incidents/{case.id}"
    return case


@router.get("/{case_id}", dependencies=READ, responses=problems(404), summary="One case")
def get_case(case_id: int, session: SessionDep, principal: PrincipalDep) -> CaseDetail:
    """With its alert ids, tasks and the append-only history of its fields."""
    return incidents.get_case(session, case_id, scope=assets.scope_of(principal))


@router.patch("/{case_id}", dependencies=MANAGE, responses=problems(404), summary="Change a case")
def update_case(
    case_id: int,
    body: CaseUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> CaseRead:
    """Fields sent are changed, each kept in the history with `reason`; closing needs a
    `resolution` (422 otherwise)."""
    return incidents.update_case(
        session,
        case_id,
        body,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )


class PlaybookRequest(BaseModel):
    playbook_id: str = Field(max_length=100, description="e.g. ransomware, scada-ot-intrusion.")
    lang: str = Field(default="en", pattern="^(en|es|fr)(-[A-Z]{2})?$")


@router.post(
    "/{case_id}/playbook",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Apply a playbook",
)
def apply_playbook(
    case_id: int,
    body: PlaybookRequest,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> list[TaskRead]:
    """Creates the playbook's tasks (due from the case's opening, texts in `lang`); applying it
    again adds nothing; 409 when the case follows another playbook or is closed."""
    return incidents.apply_playbook(
        session, case_id, body.playbook_id, actor=principal.actor, clock=runtime.clock,
        lang=body.lang, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post(
    "/{case_id}/tasks/{task_id}/approve",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Approve a task's automated action",
)
def approve_task(
    case_id: int, task_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> TaskRead:
    return incidents.approve_task(
        session, case_id, task_id, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip


class TaskStatusRequest(BaseModel):
    status: str = Field(pattern="^(open|done|skipped)$")


@router.post(
    "/{case_id}/tasks/{task_id}/status",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Mark a task done, skipped or open",
)
def set_task_status(
    case_id: int,
    task_id: int,
    body: TaskStatusRequest,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> TaskRead:
    """409 when the task's automated action still needs a person's approval."""
    return incidents.set_task_status(
        session, case_id, task_id, body.status, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip
