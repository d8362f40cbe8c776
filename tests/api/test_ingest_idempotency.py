"""`POST /api/v1/ingest/{dataset}` with an `Idempotency-Key`: a retry of the same body gets the
first answer and stores nothing; another body under the key is refused; a failed request
leaves no receipt; receipts expire."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

import orjson
import pytest

from civicshield import telemetry
from civicshield.core import FrozenClock
from civicshield.core.errors import Overloaded
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient
from tests.api.test_alerts import NDJSON, conn

URL = "/api/v1/ingest/zeek.conn"


def body(*numbers: int) -> bytes:
    return b"\n".join(orjson.dumps(conn(i)) for i in numbers)


def events_total(client: TestClient, caller: Caller) -> int:
    sources = client.get("/api/v1/ingest/sources", headers=caller.headers).json()
    return sum(s["events_total"] for s in sources)


def post(client: TestClient, caller: Caller, data: bytes, key: str | None, **headers: str) -> Any:
    extra = {} if key is None else {"Idempotency-Key": key}
    return client.post(URL, content=data, headers={**caller.headers, **NDJSON, **extra, **headers})


def test_a_retry_replays_the_first_answer_and_stores_nothing(
    client: TestClient, admin_caller: Caller
) -> None:
    first = post(client, admin_caller, body(1, 2, 3) + b"\n{broken", "sensor-7/0001")
    assert first.status_code == 202 and "Idempotent-Replayed" not in first.headers
    again = post(client, admin_caller, body(1, 2, 3) + b"\n{broken", "sensor-7/0001")
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (again.json()["accepted"], again.json()["quarantined"]) == (3, 1)
    assert events_total(client, admin_caller) == 3
    # The same body gzip-compressed is the same request.
    packed = gzip.compress(body(1, 2, 3) + b"\n{broken")
    zipped = post(client, admin_caller, packed, "sensor-7/0001", **{"Content-Encoding": "gzip"})
    assert zipped.status_code == 202 and zipped.headers["Idempotent-Replayed"] == "true"
    # Without a key, or with a new one, the body is taken again.
    assert post(client, admin_caller, body(1, 2, 3), None).status_code == 202
    assert post(client, admin_caller, body(1, 2, 3), "sensor-7/0002").status_code == 202
    assert events_total(client, admin_caller) == 9


def test_the_key_with_another_body_or_dataset_is_refused(
    client: TestClient, admin_caller: Caller
) -> None:
    assert post(client, admin_caller, body(1), "k-1").status_code == 202
    other = post(client, admin_caller, body(2), "k-1")
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert "k-1" in other.json()["detail"] and "new key" in other.json()["detail"]
    moved = client.post(
        "/api/v1/ingest/zeek.other",
        content=body(1),
        headers={**admin_caller.headers, **NDJSON, "Idempotency-Key": "k-1"},
    )
    assert moved.status_code == 422
    assert events_total(client, admin_caller) == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "é"])
def test_a_malformed_key_is_refused_before_anything_is_stored(
    client: TestClient, admin_caller: Caller, key: str
) -> None:
    got = client.post(
        URL,
        content=body(1),
        headers={
            **admin_caller.headers,
            **NDJSON,
            "Idempotency-Key": key.encode(),
        },
    )
    assert got.status_code == 422 and "Idempotency-Key" in got.json()["detail"]
    assert events_total(client, admin_caller) == 0


def test_a_failed_request_leaves_no_receipt(
    client: TestClient, admin_caller: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = telemetry.intake

    def full(*args: Any, **kwargs: Any) -> Any:
        raise Overloaded("the detection queue is full; retry shortly", retry_after=5)

    monkeypatch.setattr(telemetry, "intake", full)
    refused = post(client, admin_caller, body(1, 2), "retry-me")
    assert refused.status_code == 503
    monkeypatch.setattr(telemetry, "intake", real)
    taken = post(client, admin_caller, body(1, 2), "retry-me")
    assert taken.status_code == 202 and "Idempotent-Replayed" not in taken.headers
    assert events_total(client, admin_caller) == 2


def test_receipts_expire(
    runtime: Runtime, client: TestClient, admin_caller: Caller, clock: FrozenClock
) -> None:
    assert post(client, admin_caller, body(1), "daily").status_code == 202
    clock.advance(timedelta(hours=runtime.settings.ingest_idempotency_hours, seconds=1))
    later = post(client, admin_caller, body(2), "daily")  # a new body is fine once expired
    assert later.status_code == 202 and "Idempotent-Replayed" not in later.headers
    assert events_total(client, admin_caller) == 2
