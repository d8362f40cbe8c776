"""Applying a playbook to a case creates its tasks once; automated actions on OT, cameras and
the portal wait for a person's approval; every step is in the case history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicshield.core.actor import SYSTEM, Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.incidents.cases import create_case, get_case, update_case
from civicshield.incidents.schemas import CaseCreate, CaseStatus, CaseUpdate
from civicshield.incidents.tasks import apply_playbook, approve_task, set_task_status
from civicshield.runtime import Runtime

ANA = Actor(kind="user", name="ana")


def test_a_playbook_makes_tasks_once_with_due_times(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.session() as s:
        case = create_case(s, CaseCreate(title="Plant 3 PLC writes"), actor=ANA, clock=clock)
        tasks = apply_playbook(s, case.id, "scada-ot-intrusion", actor=ANA, clock=clock, lang="es")
        again = apply_playbook(s, case.id, "scada-ot-intrusion", actor=ANA, clock=clock)
    assert len(tasks) == len(again) > 5
    assert all(t.due_at is not None and t.due_at >= clock.now() for t in tasks)
    assert [t.due_at for t in tasks] == sorted(t.due_at for t in tasks if t.due_at)
    gated = [t for t in tasks if t.requires_approval]
    assert gated and all(t.automated_action for t in gated)
    with runtime.session() as s:
        detail = get_case(s, case.id)
        assert detail.playbook_id == "scada-ot-intrusion" and len(detail.tasks) == len(tasks)
        with pytest.raises(Conflict, match="already follows"):
            apply_playbook(s, case.id, "ransomware", actor=ANA, clock=clock)
        with pytest.raises(Invalid) as caught:
            apply_playbook(s, case.id, "nope", actor=ANA, clock=clock)
        assert caught.value.errors[0].loc == ("body", "playbook_id")


def test_approval_before_an_ot_action_is_done(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.session() as s:
        case = create_case(s, CaseCreate(title="Plant 3"), actor=ANA, clock=clock)
        tasks = apply_playbook(s, case.id, "scada-ot-intrusion", actor=ANA, clock=clock)
    gated = next(t for t in tasks if t.requires_approval)
    plain = next(t for t in tasks if not t.automated_action)
    with runtime.session() as s:
        with pytest.raises(Conflict, match="must approve"):
            set_task_status(s, case.id, gated.id, "done", actor=ANA, clock=clock)
        with pytest.raises(Conflict, match="person"):
            approve_task(s, case.id, gated.id, actor=SYSTEM, clock=clock)
        assert approve_task(s, case.id, gated.id, actor=ANA, clock=clock).approved_by == "ana"
        clock.advance(timedelta(hours=1))
        done = set_task_status(s, case.id, gated.id, "done", actor=ANA, clock=clock)
        assert done.status == "done" and done.done_by == "ana" and done.done_at == clock.now()
        assert (
            set_task_status(s, case.id, plain.id, "skipped", actor=ANA, clock=clock).status
            == "skipped"
        )
        with pytest.raises(Invalid):
            set_task_status(s, case.id, plain.id, "finished", actor=ANA, clock=clock)
        with pytest.raises(NotFound):
            set_task_status(s, case.id, 10_000, "done", actor=ANA, clock=clock)
    with runtime.session() as s:
        fields = [h.field for h in get_case(s, case.id).history]
        assert fields.count("task") == 2 and "task_approval" in fields
        update_case(
            s,
            case.id,
            CaseUpdate(status=CaseStatus.CLOSED, resolution="contained"),
            actor=ANA,
            clock=clock,
        )
        with pytest.raises(Conflict, match="closed"):
            set_task_status(s, case.id, plain.id, "open", actor=ANA, clock=clock)
