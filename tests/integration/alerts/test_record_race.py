"""Two workers adding batches to one alert at once, on a real PostgreSQL: the alert's row lock
makes the second wait, so its count includes both batches (no lost update)."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from civicshield import alerts
from civicshield.core import FrozenClock
from civicshield.migrations import upgrade
from civicshield.runtime import build_runtime
from tests.conftest import make_settings
from tests.unit.alerts.test_record import matches


@pytest.mark.postgres
def test_concurrent_batches_on_one_alert_lose_no_count(
    postgres_server: object, tmp_path: Path, clock: FrozenClock
) -> None:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url: str = postgres_server.create_database(name)  # type: ignore[attr-defined]
    upgrade(url)
    rt = build_runtime(make_settings(tmp_path / "var", database_url=url), clock=clock)
    try:
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
    finally:
        rt.close()
        postgres_server.drop_database(name)  # type: ignore[attr-defined]
