"""The demo city's telemetry: the hook fills the event store once, each scenario can be hunted,
and the ransomware scenario's Windows events fire a real SigmaHQ rule."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.core.clock import FrozenClock
from civicshield.detect.eventstore import EventStore, hunt
from civicshield.telemetry import hooks
from civicshield.telemetry.demo import MARKER, demo_frames
from tests.conftest import NOW, SHARED_DATA, make_settings

WINDOWS_RULES = SHARED_DATA / "sigma" / "rules" / "windows"
SHADOW_COPY_DELETION = "c947b146-0abc-4c87-9c64-b17e9d7274a2"  # SigmaHQ, process_creation
SERVICE_FOLDER_PATTERN = "1b2ae822-6fe1-43ba-aa7c-d1a3b3d1d5f2"  # SigmaHQ, system 7045
DATASETS = {
    "zeek.conn", "zeek.dns", "zeek.http", "zeek.modbus", "suricata.alert", "suricata.flow",
    "suricata.modbus", "syslog", "windows",
}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[EventStore, list[str]]:
    data = tmp_path_factory.mktemp("demo") / "var"
    notes = hooks.civicshield_load_demo(
        session=None, clock=FrozenClock(NOW), settings=make_settings(data)
    )
    return EventStore(data / "events"), notes


def q(store: EventStore, sql: str) -> pl.DataFrame:
    return hunt(store, sql)


def test_hook_writes_every_dataset_within_the_last_three_days(
    store: tuple[EventStore, list[str]],
) -> None:
    events, notes = store
    assert {p.dataset for p in events.partitions()} == DATASETS
    span = q(
        events, 'SELECT min("@timestamp") AS lo, max("@timestamp") AS hi, count(*) AS n FROM events'
    )
    assert NOW - timedelta(days=3) <= span["lo"][0] and span["hi"][0] <= NOW
    assert 50_000 <= span["n"][0] <= 150_000
    assert str(span["n"][0]) in notes[0] and "camera botnet" in notes[0]
    assert (events.root / MARKER).is_file()


def test_camera_botnet_is_found(store: tuple[EventStore, list[str]]) -> None:
    events, _ = store
    beacons = q(
        events,
        """SELECT DISTINCT "source.ip" FROM events
        WHERE "dns.question.name" = 'cnc.kraken-iot.example'""",
    )
    assert beacons.height == 4
    assert all(ip.startswith("10.10.") for ip in beacons["source.ip"])  # zone traffic-iot
    brute = q(
        events,
        """SELECT count(*) AS n FROM events WHERE "event.dataset" = 'zeek.conn'
        AND "destination.port" IN (22, 23, 2323) AND "source.ip" LIKE '192.0.2.%'""",
    )
    assert brute["n"][0] > 1000


def test_modbus_write_from_public_wifi_is_found(store: tuple[EventStore, list[str]]) -> None:
    events, _ = store
    conn = q(
        events,
        """SELECT "source.ip", "destination.ip" FROM events
        WHERE "event.dataset" = 'zeek.conn' AND "destination.port" = 502
        AND "source.ip" LIKE '10.60.%' AND "service" = 'modbus'""",
    )
    assert conn.rows() == [("10.60.118.77", "10.20.176.205")]  # plc-water-scada-019
    writes = q(
        events,
        """SELECT "func" FROM events WHERE "event.dataset" = 'zeek.modbus'
        AND "source.ip" LIKE '10.60.%' AND "func" LIKE 'WRITE%'""",
    )
    assert writes.height == 3
    raw = q(
        events,
        """SELECT "modbus.request.function_raw" AS f FROM events
        WHERE "event.dataset" = 'suricata.alert' AND "destination.port" = 502""",
    )
    assert sorted(raw["f"]) == ["16", "6", "6"]


def test_ransomware_precursor_is_found(store: tuple[EventStore, list[str]]) -> None:
    events, _ = store
    cmds = q(
        events,
        """SELECT "host.name", "CommandLine" FROM events
        WHERE "event.dataset" = 'windows' AND "EventID" = '1'
        AND ("CommandLine" LIKE '%delete shadows%' OR "CommandLine" LIKE '%delete catalog%')""",
    )
    assert set(cmds["host.name"]) == {"srv-corp-it-004.ciudad-demo.example"}
    assert cmds.height == 2
    renamed = q(
        events,
        """SELECT count(*) AS n FROM events WHERE "event.dataset" = 'windows'
        AND "TargetFilename" LIKE '%.kraken'""",
    )
    assert renamed["n"][0] == 400


def test_second_run_adds_nothing(store: tuple[EventStore, list[str]]) -> None:
    events, _ = store
    before = sorted((p.dataset, p.day, p.files) for p in events.partitions())
    settings = make_settings(events.root.parent)
    notes = hooks.civicshield_load_demo(
        session=None, clock=FrozenClock(NOW + timedelta(hours=1)), settings=settings
    )
    assert "already" in notes[0]
    assert sorted((p.dataset, p.day, p.files) for p in events.partitions()) == before


def test_same_clock_gives_the_same_events() -> None:
    first = {r.dataset: r.frame.drop("_line") for r in demo_frames(NOW)}
    second = {r.dataset: r.frame.drop("_line") for r in demo_frames(NOW)}
    assert first.keys() == second.keys()
    for name, frame in first.items():
        assert frame.equals(second[name]), name


@pytest.mark.skipif(not WINDOWS_RULES.is_dir(), reason=f"needs SigmaHQ rules at {WINDOWS_RULES}")
def test_windows_scenario_fires_sigmahq_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    windows = next(r for r in demo_frames(NOW) if r.dataset == "windows").frame
    events = tmp_path / "windows.jsonl"
    events.write_text("\n".join(windows["_raw"]) + "\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    env = {"CIVICSHIELD_DATA_DIR": str(tmp_path / "var"), "CIVICSHIELD_ENVIRONMENT": "test",
           "CIVICSHIELD_SECRET_KEY": "test-secret-key-0123456789abcdef"}  # fmt: skip
    args = ["detect", str(events), "--rules", str(WINDOWS_RULES), "--format", "jsonl"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    matches = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    fired = {m["rule_id"] for m in matches}
    assert {SHADOW_COPY_DELETION, SERVICE_FOLDER_PATTERN} <= fired
