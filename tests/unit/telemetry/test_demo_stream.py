"""The demo city raises alerts from its history and keeps streaming telemetry, attacks included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from civicshield import alerts
from civicshield.core import FrozenClock
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.telemetry import hooks
from civicshield.telemetry.demo_stream import stream_minute
from civicshield.telemetry.sources import list_sources
from civicshield.telemetry.stream import detect_spooled
from tests.conftest import make_settings

# a minute divisible by 7 (an attack minute): 2026-11-22 11:55 UTC
ATTACK_MINUTE = datetime.fromtimestamp(
    (int(datetime(2026, 11, 22, 12, tzinfo=UTC).timestamp() // 60) // 7 * 7) * 60, UTC
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    tmp = tmp_path_factory.mktemp("demo")
    settings = make_settings(tmp / "var", feeds_path=tmp / "none", rule_pack_enabled=True)
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=FrozenClock(ATTACK_MINUTE))
    with rt.session() as s:
        notes = hooks.civicshield_load_demo(s, rt.clock, settings)
    assert any("demo alerts:" in n for n in notes) and any("own rules only" in n for n in notes)
    return rt


def test_the_history_raises_the_scenarios_alerts(city: Runtime) -> None:
    with city.session() as s:
        titles = {g.rule_title for g in alerts.list_groups(s)}
    assert {"Modbus Write to a Controller", "IoT Malware Binary Download"} <= titles
    assert "Suricata IDS Alert of Severity 1" in titles
    with city.session() as s:
        total = alerts.list_alerts(s, alerts.AlertFilter(statuses=[])).total
        hooks.civicshield_load_demo(s, city.clock, city.settings)  # again: adds nothing
    with city.session() as s:
        assert alerts.list_alerts(s, alerts.AlertFilter(statuses=[])).total == total > 0


def test_each_minute_streams_through_ingest_with_attacks(city: Runtime) -> None:
    with city.session() as s:
        before = alerts.list_alerts(s).total
        result = stream_minute(s, city.settings, registry=city.jobs, clock=city.clock)
    assert result["streamed"] > 10 and result["attack"]
    report = detect_spooled(city.session, city.settings, clock=city.clock)
    assert report.events == result["streamed"] and report.matches > 0
    with city.session() as s:
        assert alerts.list_alerts(s).total > before
        names = {h.name for h in list_sources(s, clock=city.clock)}
    assert {"demo:suricata-sensor", "demo:zeek-sensor/conn"} <= names
    city.clock.advance(timedelta(minutes=1))  # an ordinary minute: traffic, no attack
    with city.session() as s:
        quiet = stream_minute(s, city.settings, registry=city.jobs, clock=city.clock)
    assert quiet["streamed"] > 0 and quiet["attack"] == ""


def test_nothing_streams_without_the_demo(tmp_path: Path, db_url: str, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path / "var", database_url=db_url)
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=clock)
    with rt.session() as s:
        assert stream_minute(s, settings, registry=rt.jobs, clock=clock)["streamed"] == 0
