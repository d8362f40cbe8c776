"""Two workers adding batches to one alert at once, on a real PostgreSQL: the alert's row lock
makes the second wait, so its count includes both batches (no lost update)."""

from __future__ import annotations

import threading
import time

import polars as pl
import pytest
from sqlalchemy import select

from civicshield import alerts
from civicshield.alerts import record
from civicshield.alerts.models import Alert
from civicshield.core import FrozenClock
from civicshield.runtime import Runtime
from tests.unit.alerts.test_record import matches


@pytest.mark.postgres
def test_concurrent_batches_on_one_alert_lose_no_count(
    runtime_pg: Runtime, clock: FrozenClock
) -> None:
    rt = runtime_pg
    with rt.session() as s:
        alerts.record_matches(s, matches(3), batch_id="b0", clock=clock)
    first = rt.session()
    session = first.__enter__()  # worker A: adds a batch, commits later
    alerts.record_matches(session, matches(10), batch_id="b1", clock=clock)
    failures: list[BaseException] = []

    def worker_b() -> None:
        try:
            with rt.session() as s:
                alerts.record_matches(s, matches(5), batch_id="b2", clock=clock)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    other = threading.Thread(target=worker_b)
    other.start()
    other.join(timeout=1.5)
    assert other.is_alive(), "worker B did not wait for worker A's lock on the alert"
    first.__exit__(None, None, None)  # A commits: B goes on and sees A's batch
    other.join(timeout=30)
    assert not other.is_alive() and not failures, failures
    with rt.session() as s:
        page = alerts.list_alerts(s)
        assert page.total == 1
        assert page.items[0].count == 3 + 10 + 5


@pytest.mark.postgres
def test_two_batches_taking_two_alerts_in_opposite_orders_do_not_deadlock(
    runtime_pg: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A locks its first alert and pauses; worker B's batch lists the two alerts the
    other way round. Locking in batch order, B would lock the second alert and wait for the
    first while A waits for the second: PostgreSQL would abort one of them (deadlock). Locking
    in dedup-key order, B waits for A's first lock and both batches count."""
    rt = runtime_pg
    with rt.session() as s:  # both alerts exist, so each worker only locks and adds
        alerts.record_matches(
            s, pl.concat([matches(1, src="10.0.0.1"), matches(1, src="10.0.0.2")]),
            batch_id="b0", clock=clock,
        )  # fmt: skip
        by_key = sorted((a.dedup_key, a.key_fields["source.ip"]) for a in s.scalars(
            select(Alert)
        ))  # fmt: skip
    first, second = (ip for _, ip in by_key)  # the lock order both workers must follow
    a_batch = pl.concat([matches(2, src=first), matches(2, src=second)])
    b_batch = pl.concat([matches(3, src=second), matches(3, src=first)])
    locked_one = threading.Event()
    real = record._add_batch

    def pausing(*args: object, **kwargs: object) -> object:
        out = real(*args, **kwargs)  # type: ignore[arg-type]
        if threading.current_thread().name == "worker-a" and not locked_one.is_set():
            locked_one.set()
            time.sleep(1.5)  # B starts meanwhile; PostgreSQL's deadlock_timeout is 1 s
        return out

    monkeypatch.setattr(record, "_add_batch", pausing)
    failures: list[BaseException] = []

    def worker(batch: pl.DataFrame, batch_id: str) -> None:
        try:
            with rt.session() as s:
                alerts.record_matches(s, batch, batch_id=batch_id, clock=clock)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    a = threading.Thread(target=worker, args=(a_batch, "ba"), name="worker-a")
    b = threading.Thread(target=worker, args=(b_batch, "bb"), name="worker-b")
    a.start()
    assert locked_one.wait(timeout=30)
    b.start()
    a.join(timeout=60)
    b.join(timeout=60)
    assert not failures, failures
    with rt.session() as s:
        counts = {x.key_fields["source.ip"]: x.count for x in alerts.list_alerts(s).items}
    assert counts == {first: 1 + 2 + 3, second: 1 + 2 + 3}
