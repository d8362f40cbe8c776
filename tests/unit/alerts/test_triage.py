"""Acknowledge, escalate, close with a resolution, reopen, bulk, and undo."""

from __future__ import annotations

import pytest

from civicshield import alerts
from civicshield.alerts import AlertStatus, Resolution
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.runtime import Runtime
from tests.unit.alerts.test_record import matches

ANA = Actor(kind="user", name="ana")


def _three(runtime: Runtime, clock: FrozenClock) -> list[int]:
    import polars as pl

    frame = pl.concat([matches(1, src=f"10.0.0.{i}") for i in range(3)])
    with runtime.session() as s:
        return alerts.record_matches(s, frame, batch_id="b", clock=clock).created


def test_triage_steps_and_undo(runtime: Runtime, clock: FrozenClock) -> None:
    a, b, c = _three(runtime, clock)
    with runtime.session() as s:
        assert alerts.triage(s, [a], "acknowledge", actor=ANA, clock=clock)["changed"] == [a]
        alerts.triage(
            s,
            [b, c],
            "close",
            resolution=Resolution.FALSE_POSITIVE,
            reason="scanner",
            actor=ANA,
            clock=clock,
        )
    with runtime.session() as s:
        closed = alerts.get_alert(s, b)
        assert (
            closed.status is AlertStatus.CLOSED and closed.resolution is Resolution.FALSE_POSITIVE
        )
        assert closed.status_by == "ana" and closed.status_reason == "scanner"
        undone = alerts.undo(s, b, actor=ANA, clock=clock)
        assert undone.action == "close"
    with runtime.session() as s:
        back = alerts.get_alert(s, b)
        assert back.status is AlertStatus.NEW and back.resolution is None
        assert [c.action for c in back.changes] == ["close", "undo"] and back.changes[0].undone
        with pytest.raises(NotFound):
            alerts.undo(s, b, actor=ANA, clock=clock)  # nothing left to undo
        assert alerts.list_alerts(s).total == 2  # the queue shows open ones: a and b


def test_close_needs_a_resolution_and_bad_moves_conflict(
    runtime: Runtime, clock: FrozenClock
) -> None:
    a, b, _ = _three(runtime, clock)
    with runtime.session() as s:
        with pytest.raises(Invalid) as caught:
            alerts.triage(s, [a], "close", actor=ANA, clock=clock)
        assert caught.value.errors[0].loc == ("body", "resolution")
        alerts.triage(s, [a], "close", resolution=Resolution.BENIGN, actor=ANA, clock=clock)
    with runtime.session() as s:
        with pytest.raises(Conflict, match=str(a)):
            alerts.triage(s, [a, b], "acknowledge", actor=ANA, clock=clock)
        assert alerts.get_alert(s, b).status is AlertStatus.NEW  # nothing changed
        assert alerts.triage(s, [a], "reopen", actor=ANA, clock=clock)["changed"] == [a]
        with pytest.raises(NotFound):
            alerts.triage(s, [999], "escalate", actor=ANA, clock=clock)


def test_undo_steps_reverts_only_what_is_still_the_latest(
    runtime: Runtime, clock: FrozenClock
) -> None:
    a, b, c = _three(runtime, clock)
    bob = Actor(kind="user", name="bob")
    with runtime.session() as s:
        steps = alerts.triage(s, [a, b, c], "acknowledge", actor=ANA, clock=clock)["steps"]
        alerts.triage(s, [b], "escalate", actor=bob, clock=clock)  # bob moved on with b
    with runtime.session() as s:
        done = alerts.undo_steps(s, steps, actor=ANA, clock=clock)
        assert sorted(d.id for d in done) == sorted([steps[0], steps[2]])
    with runtime.session() as s:
        assert alerts.get_alert(s, a).status is AlertStatus.NEW
        assert alerts.get_alert(s, b).status is AlertStatus.ESCALATED  # bob's decision stays
        assert alerts.undo_steps(s, steps, actor=ANA, clock=clock) == []  # twice: nothing
