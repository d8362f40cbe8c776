"""Redis Streams mode against a real redis-server: intake appends, a worker detects, a replay
adds nothing, a poison entry ends in quarantine, a full stream pushes back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import orjson
import polars as pl
import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from civicshield import alerts
from civicshield.cli import app
from civicshield.core import FrozenClock
from civicshield.core.errors import Invalid, Overloaded
from civicshield.detect.live import live_rules
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.telemetry import StreamWorker, intake, redis_worker
from civicshield.telemetry.paths import event_store, quarantine_store, spool
from civicshield.telemetry.redis_streams import (
    connect,
    decode_entry,
    stream_name,
    streams,
    waiting,
)
from civicshield.telemetry.redis_worker import Delivery
from civicshield.telemetry.stream_store import POISON_FORMAT
from tests.conftest import make_settings
from tests.harness import RedisServer, free_port, require_or_skip

TELNET_RULE = """
title: Telnet to a city camera
id: 0b7c1c55-3f9e-4a43-9d7e-6c1f5d2b9a01
status: test
level: high
logsource: {product: zeek, service: conn}
detection:
  selection: {id.resp_p: 23}
  condition: selection
"""


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
    except RuntimeError as exc:
        require_or_skip(exc, "Redis server")
    yield server
    server.stop()


@pytest.fixture
def city(tmp_path: Path, redis_server: RedisServer, clock: FrozenClock) -> Iterator[Runtime]:
    redis_server.execute("FLUSHALL")
    settings = make_settings(
        tmp_path / "var",
        database_url=f"sqlite:///{tmp_path / 'var' / 'civicshield.db'}",
        feeds_path=tmp_path / "no-feeds",
        redis_url=redis_server.url,
        stream_maxlen=1000,
        stream_claim_idle_seconds=0.05,
        stream_max_deliveries=2,
    )
    rules = settings.data_dir / "rules" / "city"
    rules.mkdir(parents=True)
    (rules / "telnet.yml").write_text(TELNET_RULE)
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=clock)
    yield rt
    rt.close()


def conn(i: int, port: int) -> bytes:
    record = {
        "_path": "conn",
        "ts": 1763812800.0 + i,
        "uid": f"C{i}",
        "id.orig_h": "10.0.0.5",
        "id.orig_p": 40000 + i,
        "id.resp_h": "10.20.0.9",
        "id.resp_p": port,
        "proto": "tcp",
    }
    return orjson.dumps(record)


def take(rt: Runtime, lines: list[bytes]) -> dict[str, object]:
    with rt.session() as s:
        report = intake(
            s,
            rt.settings,
            registry=rt.jobs,
            clock=rt.clock,
            kind="http",
            source="sensor-1",
            lines=list(enumerate(lines, start=1)),
            fmt="zeek",
            dataset="zeek.conn",
        )
    return report.to_dict()


def worker(rt: Runtime) -> StreamWorker:
    return StreamWorker(
        rt.session, rt.settings, clock=rt.clock, name="w1", block_ms=0,
        rules=live_rules(rt.settings),
    )  # fmt: skip


def drain(w: StreamWorker, rounds: int = 50) -> None:
    """Tick until nothing waits (bounded: a stuck worker fails the test, never hangs it)."""
    for _ in range(rounds):
        w.tick(block_ms=0)
        if waiting(w.client, "zeek.conn") == 0:
            return
    raise AssertionError(f"{waiting(w.client, 'zeek.conn')} events still wait")


def stored_rows(rt: Runtime) -> int:
    return event_store(rt.settings).scan().select(pl.len()).collect().item()


def test_intake_appends_to_the_stream_and_a_worker_detects(city: Runtime) -> None:
    report = take(city, [conn(1, 23), b"{broken", conn(2, 80), conn(3, 23)])
    assert report["accepted"] == 3 and report["quarantined"] == 1
    client = connect(city.settings)
    assert streams(client) == [stream_name("zeek.conn")]
    assert waiting(client, "zeek.conn") == 3
    assert spool(city.settings).rows() == 0  # nothing went to the embedded spool
    drain(worker(city))
    assert client.xlen(stream_name("zeek.conn")) == 0  # acknowledged and deleted
    assert stored_rows(city) == 3
    with city.session() as s:
        [alert] = alerts.list_alerts(s).items
        assert alert.count == 2


def test_a_replayed_entry_adds_no_alert_count_and_no_stored_event(city: Runtime) -> None:
    take(city, [conn(i, 23) for i in range(4)])
    client = connect(city.settings)
    name = stream_name("zeek.conn")
    [(ident, fields)] = client.xrange(name)  # kept before the worker deletes it
    w = worker(city)
    drain(w)
    again = Delivery(name, ident.decode(), fields)
    w.process([again])  # as if a second worker had reclaimed it after the first finished
    assert stored_rows(city) == 4
    with city.session() as s:
        [alert] = alerts.list_alerts(s).items
        assert alert.count == 4
    assert waiting(client, "zeek.conn") == 0  # acknowledged once, counted down once


def test_a_replay_after_a_compaction_stores_nothing_again(city: Runtime) -> None:
    take(city, [conn(i, 80) for i in range(4)])
    take(city, [conn(10 + i, 80) for i in range(2)])  # a second entry: a second file
    client = connect(city.settings)
    name = stream_name("zeek.conn")
    (ident, fields), _ = client.xrange(name)
    drain(worker(city))
    store = event_store(city.settings)
    [part] = store.compact()  # the entries' files are merged into one
    assert part.files == 1 and stored_rows(city) == 6
    worker(city).process([Delivery(name, ident.decode(), fields)])  # reclaimed late
    assert stored_rows(city) == 6
    assert [p.files for p in store.partitions()] == [1]


def test_a_poison_entry_is_quarantined_after_its_deliveries(city: Runtime) -> None:
    client = connect(city.settings)
    name = stream_name("zeek.conn")
    client.xadd(name, {"v": 1, "dataset": "zeek.conn", "events": 7, "data": b"not arrow"})
    client.sadd("civicshield:streams", name)
    client.hincrby("civicshield:waiting", name, 7)
    w = worker(city)
    first = w.tick(block_ms=0)
    assert first.failed == 1 and "not Arrow IPC" in first.errors[0]
    assert client.xpending(name, city.settings.stream_group)["pending"] == 1
    quarantined = 0
    for _ in range(200):  # reclaimed after the (tiny) idle time, up to the delivery limit
        quarantined += w.tick(block_ms=10).quarantined
        if quarantined:
            break
    assert quarantined == 1
    assert client.xpending(name, city.settings.stream_group)["pending"] == 0
    assert waiting(client, "zeek.conn") == 0
    [entry] = list(quarantine_store(city.settings).entries(fmt=POISON_FORMAT))
    assert "delivered 3 times" in entry.reason and "not Arrow IPC" in entry.reason
    assert entry.position.startswith("entry ")


def test_a_full_stream_refuses_new_data_until_workers_catch_up(city: Runtime) -> None:
    take(city, [conn(i, 80) for i in range(1000)])  # stream_maxlen is 1000 events here
    with pytest.raises(Overloaded, match="1,000 unprocessed events") as raised:
        take(city, [conn(5000, 23)])
    assert raised.value.retry_after == 5
    drain(worker(city))
    assert take(city, [conn(5001, 23)])["accepted"] == 1


def test_a_bad_entry_names_what_is_wrong() -> None:
    with pytest.raises(Invalid, match="lacks the field 'dataset'"):
        decode_entry({b"v": b"1", b"data": b""})
    with pytest.raises(Invalid, match="version 2"):
        decode_entry({b"v": b"2", b"dataset": b"zeek.conn", b"data": b""})


def test_worker_detect_refuses_without_redis(tmp_path: Path) -> None:
    env = {k: None for k in os.environ if k.startswith("CIVICSHIELD_")}
    env["CIVICSHIELD_DATA_DIR"] = str(tmp_path / "var")
    result = CliRunner().invoke(app, ["worker", "detect", "--once"], env=env)
    assert result.exit_code == 1
    assert "CIVICSHIELD_REDIS_URL is not set" in result.output


def test_worker_detect_once_processes_the_streams(city: Runtime) -> None:
    take(city, [conn(1, 23), conn(2, 23)])
    env = {k: None for k in os.environ if k.startswith("CIVICSHIELD_")}
    env.update(
        CIVICSHIELD_DATA_DIR=str(city.settings.data_dir),
        CIVICSHIELD_DATABASE_URL=city.settings.resolved_database_url,
        CIVICSHIELD_REDIS_URL=str(city.settings.redis_url),
        CIVICSHIELD_SECRET_KEY="test-secret-key-0123456789abcdef",
        CIVICSHIELD_FEEDS_PATH=str(city.settings.feeds_path),
        CIVICSHIELD_RULE_PACK_ENABLED="false",
    )
    result = CliRunner().invoke(
        app, ["worker", "detect", "--once", "--json", "--name", "cli", "--block-ms", "0"], env=env
    )
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert report["worker"] == "cli" and report["entries"] == 1 and report["events"] == 2


@pytest.mark.parametrize(
    ("error", "quarantined"),
    [(OperationalError("SELECT 1", {}, Exception("server closed")), 0), (ValueError("bad"), 1)],
)
def test_only_an_entrys_own_failure_quarantines_it(
    city: Runtime, monkeypatch: pytest.MonkeyPatch, error: Exception, quarantined: int
) -> None:
    take(city, [conn(1, 23)])
    client = connect(city.settings)
    name = stream_name("zeek.conn")
    w = worker(city)

    def fail(*_args: object) -> None:
        raise error

    monkeypatch.setattr(redis_worker, "record_found", fail)
    assert w.tick(block_ms=0).failed == 1  # a first failure: left pending either way
    [(ident, fields)] = client.xrange(name)
    over = Delivery(name, ident.decode(), fields, deliveries=3)  # past the limit of 2
    report = w.process([over])
    assert report.quarantined == quarantined and report.failed == 1 - quarantined
    assert client.xpending(name, city.settings.stream_group)["pending"] == 1 - quarantined
    assert waiting(client, "zeek.conn") == 1 - quarantined  # an outage keeps the event waiting


def test_worker_detect_once_names_an_unreachable_redis(city: Runtime) -> None:
    env = {k: None for k in os.environ if k.startswith("CIVICSHIELD_")}
    env.update(
        CIVICSHIELD_DATA_DIR=str(city.settings.data_dir),
        CIVICSHIELD_DATABASE_URL=city.settings.resolved_database_url,
        CIVICSHIELD_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        CIVICSHIELD_SECRET_KEY="test-secret-key-0123456789abcdef",
    )
    result = CliRunner().invoke(app, ["worker", "detect", "--once"], env=env)
    assert result.exit_code == 1
    assert "does not answer" in result.output
