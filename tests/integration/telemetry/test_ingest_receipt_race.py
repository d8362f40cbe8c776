"""Two requests racing with one Idempotency-Key, on a real PostgreSQL: the second waits on the
unique index until the first commits, then gets a 409 (nothing taken twice); its retry replays
the first answer."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from civicshield.core import FrozenClock
from civicshield.core.errors import Conflict
from civicshield.migrations import upgrade
from civicshield.runtime import build_runtime
from civicshield.telemetry import receipts
from civicshield.telemetry.models import IngestReceipt
from tests.conftest import make_settings

DAY = timedelta(hours=24)


@pytest.mark.postgres
def test_the_second_of_two_racing_requests_is_refused_then_replays(
    postgres_server: object, tmp_path: Path, clock: FrozenClock
) -> None:
    name = f"t_{uuid.uuid4().hex[:12]}"
    url: str = postgres_server.create_database(name)  # type: ignore[attr-defined]
    upgrade(url)
    rt = build_runtime(make_settings(tmp_path / "var", database_url=url), clock=clock)
    digest = receipts.digest("zeek.conn", b"{}")
    args = {"sender": "sensor", "key": "k", "dataset": "zeek.conn", "body_sha256": digest}
    try:
        first = rt.session()
        session = first.__enter__()  # request A: claimed, still taking its body
        mine = receipts.claim(session, **args, now=clock.now(), keep=DAY)
        assert isinstance(mine, IngestReceipt)
        outcome: list[object] = []

        def request_b() -> None:
            try:
                with rt.session() as s:
                    outcome.append(receipts.claim(s, **args, now=clock.now(), keep=DAY))
            except BaseException as exc:  # reported by the main thread
                outcome.append(exc)

        other = threading.Thread(target=request_b)
        other.start()
        other.join(timeout=1.5)
        assert other.is_alive(), "request B did not wait for request A's receipt"
        receipts.finish(session, mine, {"accepted": 1})
        first.__exit__(None, None, None)  # A commits its receipt with the answer
        other.join(timeout=30)
        assert not other.is_alive()
        assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
        with rt.session() as s:  # B's retry
            assert receipts.claim(s, **args, now=clock.now(), keep=DAY) == {"accepted": 1}
    finally:
        rt.close()
        postgres_server.drop_database(name)  # type: ignore[attr-defined]
