"""A case's tasks: applying a playbook creates them (owners by role, due times from the case's
opening), people approve automated actions and mark tasks done or skipped.

An automated action that the playbook marks `requires_approval` (always for OT, cameras and the
citizen portal) cannot be marked done before a person other than the system approved it; both
steps are audited and kept in the case's history.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.incidents.cases import Scope, load_case, record_change
from civicshield.incidents.models import Case, CaseTask
from civicshield.incidents.playbooks import load_playbooks, plan
from civicshield.incidents.schemas import CaseStatus, TaskRead

__all__ = ["TASK_STATUSES", "apply_playbook", "approve_task", "set_task_status"]

TASK_STATUSES = ("open", "done", "skipped")


def _open_case(session: Session, case_id: int, scope: Scope) -> Case:
    case = load_case(session, case_id, scope)
    if case.status == CaseStatus.CLOSED.value:
        raise Conflict(f"case {case.id} is closed; reopen it first")
    return case


def apply_playbook(
    session: Session,
    case_id: int,
    playbook_id: str,
    *,
    actor: Actor,
    clock: Clock,
    lang: str = "en",
    scope: Scope = None,
) -> list[TaskRead]:
    """Create the playbook's tasks on the case (due from the case's opening); applying the same
    playbook again adds nothing. Returns the case's tasks."""
    case = _open_case(session, case_id, scope)
    known = load_playbooks()
    playbook = known.get(playbook_id)
    if playbook is None:
        raise Invalid(
            f"no playbook {playbook_id!r}",
            [FieldError(("body", "playbook_id"), f"use one of: {', '.join(sorted(known))}")],
        )
    if case.playbook_id and case.playbook_id != playbook.id:
        raise Conflict(f"case {case.id} already follows the {case.playbook_id} playbook")
    opened = as_utc(case.opened_at)
    assert opened is not None
    have = set(session.scalars(select(CaseTask.key).where(CaseTask.case_id == case.id)))
    added = 0
    for task in plan(playbook, start=opened, lang=lang):
        key = f"{playbook.id}/{task.task_id}"
        if key in have:
            continue
        session.add(
            CaseTask(
                case_id=case.id,
                key=key,
                phase=task.phase,
                title=task.title[:500],
                role=task.role,
                owner="",
                checklist=[{"text": item, "done": False} for item in task.checklist],
                automated_action=task.action.kind if task.action else "",
                requires_approval=task.requires_approval,
                approved_by="",
                due_at=task.due_at,
                status="open",
            )
        )
        added += 1
    changes = {}
    if case.playbook_id != playbook.id:
        changes["playbook"] = (case.playbook_id or None, f"{playbook.id} v{playbook.version}")
        case.playbook_id, case.playbook_version = playbook.id, str(playbook.version)
    case.updated_at = clock.now()
    session.flush()
    record_change(session, case, changes, actor=actor, clock=clock)
    audit.record(
        session, actor=actor, action="case.playbook", entity_type="case", entity_id=case.id,
        clock=clock, summary=f"playbook {playbook.id} applied: {added} task(s) added",
    )  # fmt: skip
    rows = session.scalars(
        select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.due_at, CaseTask.id)
    )
    return [TaskRead.model_validate(t) for t in rows]


def _task(session: Session, case: Case, task_id: int) -> CaseTask:
    task = session.get(CaseTask, task_id)
    if task is None or task.case_id != case.id:
        raise NotFound(f"case {case.id} has no task {task_id}")
    return task


def approve_task(
    session: Session, case_id: int, task_id: int, *, actor: Actor, clock: Clock, scope: Scope = None
) -> TaskRead:
    """A person approves a task's automated action (required before it may be done)."""
    case = _open_case(session, case_id, scope)
    task = _task(session, case, task_id)
    if not task.automated_action:
        raise Conflict(f"task {task_id} has no automated action to approve")
    if actor.kind == "system":
        raise Conflict("an automated action is approved by a person, not by the system")
    if task.approved_by:
        return TaskRead.model_validate(task)
    task.approved_by = actor.label
    session.flush()
    approval = {"task": task.key, "approved_by": actor.label}
    record_change(session, case, {"task_approval": (None, approval)}, actor=actor, clock=clock)
    audit.record(
        session, actor=actor, action="case.task.approve", entity_type="case", entity_id=case.id,
        clock=clock, summary=f"{task.key}: {task.automated_action} approved",
    )  # fmt: skip
    return TaskRead.model_validate(task)


def set_task_status(
    session: Session,
    case_id: int,
    task_id: int,
    status: str,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> TaskRead:
    """Mark a task done, skipped or open again."""
    if status not in TASK_STATUSES:
        raise Invalid(
            f"unknown task status {status!r}",
            [FieldError(("body", "status"), f"use one of: {', '.join(TASK_STATUSES)}")],
        )
    case = _open_case(session, case_id, scope)
    task = _task(session, case, task_id)
    if status == "done" and task.requires_approval and not task.approved_by:
        raise Conflict(
            f"task {task.key} runs {task.automated_action}: a person must approve it first"
        )
    if task.status == status:
        return TaskRead.model_validate(task)
    old, task.status = task.status, status
    now = clock.now()
    task.done_at = now if status == "done" else None
    task.done_by = actor.label if status == "done" else ""
    session.flush()
    change = ({"task": task.key, "status": old}, {"task": task.key, "status": status})
    record_change(session, case, {"task": change}, actor=actor, clock=clock)
    audit.record(
        session, actor=actor, action="case.task", entity_type="case", entity_id=case.id,
        clock=clock, summary=f"{task.key}: {old} -> {status}",
    )  # fmt: skip
    return TaskRead.model_validate(task)
