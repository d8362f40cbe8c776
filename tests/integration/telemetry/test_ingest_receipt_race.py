"""Two requests racing with one Idempotency-Key, on a real PostgreSQL: the second waits on the
unique index until the first commits, then gets a 409 (nothing taken twice); its retry replays
the first answer."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from civicshield.core import FrozenClock
from civicshield.core.errors import Conflict
from civicshield.runtime import Runtime
from civicshield.telemetry import receipts
from civicshield.telemetry.models import IngestReceipt

DAY = timedelta(hours=24)


@pytest.mark.postgres
def test_the_second_of_two_racing_requests_is_refused_then_replays(
    runtime_pg: Runtime, clock: FrozenClock
) -> None:
    rt = runtime_pg
    digest = receipts.digest("zeek.conn", b"{}")
    args = {"sender": "sensor", "key": "k", "dataset": "zeek.conn", "body_sha256": digest}
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
