"""The reminders job on a frozen clock: levels raised in order, nothing raised twice across
runs, e-mail from level 2 to the owner and team (queued `mail.send` jobs), the overdue reminder
once, and acknowledging one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from civicshield import accounts, jobs
from civicshield.core import SYSTEM, Role, Sector
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Conflict, NotFound
from civicshield.incidents.legal import (
    JOBS,
    acknowledge_reminder,
    list_reminders,
    raise_reminders,
)
from civicshield.runtime import Runtime
from tests.conftest import PASSWORD
from tests.unit.incidents.test_legal_clocks import ANA, CONFIG, event, open_case

AWARE = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # gdpr.art33 due 72 h later


def user(runtime: Runtime, name: str, email: str | None) -> None:
    with runtime.session() as s:
        accounts.create_user(
            s, accounts.UserCreate(username=name, password=PASSWORD, role=Role.RESPONDER,
                                   email=email),
            actor=SYSTEM, clock=runtime.clock, config=runtime.accounts,
        )  # fmt: skip


def run(runtime: Runtime, clock: FrozenClock, at: datetime) -> list[tuple[int, str, list[str]]]:
    clock.set(at)
    with runtime.session() as s:
        made = raise_reminders(s, config=CONFIG, clock=clock, registry=runtime.jobs)
    return [(r.level, r.reason, r.emailed_to) for r in made]


def mails(runtime: Runtime) -> list[list[str]]:
    with runtime.session() as s:
        page = jobs.list_jobs(s, name="mail.send")
    return [list(j.args["to"]) for j in page.items]


def test_reminders_escalate_once_each_and_email_from_level_two(
    runtime: Runtime, clock: FrozenClock
) -> None:
    user(runtime, "ana", "ana@city.example")
    user(runtime, "bo", None)  # no address: skipped
    user(runtime, "cy", "cy@city.example")
    case_id = open_case(runtime, clock, "gdpr.art33")
    with runtime.session() as s:
        from civicshield.incidents.cases import update_case
        from civicshield.incidents.schemas import CaseUpdate

        update_case(s, case_id, CaseUpdate(team=["bo", "cy", "ghost"]), actor=ANA, clock=clock)
    event(runtime, clock, case_id, kind="became_aware", at=AWARE.isoformat())
    assert run(runtime, clock, AWARE + timedelta(hours=35)) == []
    assert run(runtime, clock, AWARE + timedelta(hours=36)) == [(1, "50%", [])]
    assert run(runtime, clock, AWARE + timedelta(hours=40)) == []  # nothing twice
    assert mails(runtime) == []
    to = ["ana@city.example", "cy@city.example"]
    assert run(runtime, clock, AWARE + timedelta(hours=54)) == [(2, "75%", to)]
    assert mails(runtime) == [to]
    # the job missed 90 % and "1h before": after the deadline only "overdue" is raised, once
    assert run(runtime, clock, AWARE + timedelta(hours=73)) == [(5, "overdue", to)]
    assert run(runtime, clock, AWARE + timedelta(hours=80)) == []
    assert len(mails(runtime)) == 2
    with runtime.session() as s:
        shown = list_reminders(s, case_id=case_id, unacknowledged=True)
        assert [r.level for r in shown] == [5, 2, 1]
        acknowledge_reminder(s, shown[0].id, actor=ANA, clock=clock)
        with pytest.raises(Conflict):
            acknowledge_reminder(s, shown[0].id, actor=ANA, clock=clock)
        with pytest.raises(NotFound):
            acknowledge_reminder(
                s, shown[1].id, actor=ANA, clock=clock, scope=frozenset({Sector.TRANSPORT})
            )
        assert len(list_reminders(s, unacknowledged=True)) == 2
        assert list_reminders(s, scope=frozenset({Sector.TRANSPORT})) == []


def test_reminders_are_levels_in_order_and_the_job_recurs(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = open_case(runtime, clock, "gdpr.art33")
    event(runtime, clock, case_id, kind="became_aware", at=AWARE.isoformat())
    got = run(runtime, clock, AWARE + timedelta(hours=71, minutes=30))
    assert [(lvl, why) for lvl, why, _ in got] == [
        (1, "50%"),
        (2, "75%"),
        (3, "90%"),
        (4, "1h before"),
    ]
    assert JOBS[0].name == "incidents.reminders" and JOBS[0].every_seconds == 300
