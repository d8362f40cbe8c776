"""Received lines → spool → micro-batch detection → alerts, event store; health of sources."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path

import orjson
import polars as pl
import pytest

from civicshield import alerts, jobs
from civicshield.core import FrozenClock, Settings
from civicshield.core.errors import Overloaded
from civicshield.detect.live import live_rules
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.telemetry.intake import intake
from civicshield.telemetry.paths import event_store, spool
from civicshield.telemetry.sources import (
    check_silence,
    list_datasets,
    list_sources,
    note_intake,
)
from civicshield.telemetry.stream import detect_spooled
from tests.conftest import make_settings

TELNET_RULE = """
title: Telnet to a city camera
id: 0b7c1c55-3f9e-4a43-9d7e-6c1f5d2b9a01
status: test
author: CivicShield
level: high
tags: [attack.initial-access, attack.t1078]
logsource: {product: zeek, service: conn}
detection:
  selection: {id.resp_p: 23}
  condition: selection
"""


@pytest.fixture
def city(tmp_path: Path, db_url: str, clock: FrozenClock) -> Runtime:
    settings = make_settings(
        tmp_path / "var",
        database_url=db_url,
        feeds_path=tmp_path / "no-feeds",
        detect_batch_events=1000,
    )
    rules = settings.data_dir / "rules" / "city"
    rules.mkdir(parents=True)
    (rules / "telnet.yml").write_text(TELNET_RULE)
    upgrade(settings.resolved_database_url)
    return build_runtime(settings, clock=clock)


def conn(i: int, port: int, src: str = "10.0.0.5") -> bytes:
    record = {
        "_path": "conn",
        "ts": 1763812800.0 + i,
        "uid": f"C{i}",
        "id.orig_h": src,
        "id.orig_p": 40000 + i,
        "id.resp_h": "10.20.0.9",
        "id.resp_p": port,
        "proto": "tcp",
    }
    return orjson.dumps(record)


def take(rt: Runtime, lines: list[bytes], source: str = "sensor-1") -> dict[str, object]:
    with rt.session() as s:
        report = intake(
            s,
            rt.settings,
            registry=rt.jobs,
            clock=rt.clock,
            kind="http",
            source=source,
            lines=list(enumerate(lines, start=1)),
            fmt="zeek",
            dataset="zeek.conn",
        )
    return report.to_dict()


def test_intake_spools_quarantines_and_queues_detection(city: Runtime) -> None:
    report = take(city, [conn(1, 23), b"{not json", conn(2, 80)])
    assert report["accepted"] == 2 and report["quarantined"] == 1
    assert "line 2" in report["reasons"][0]  # type: ignore[index]
    assert spool(city.settings).rows() == 2
    with city.session() as s:
        queued = jobs.list_jobs(s, name="telemetry.detect", status=jobs.JobStatus.QUEUED)
        assert queued.total == 1
    take(city, [conn(3, 23)])
    with city.session() as s:  # one waiting run is enough
        assert jobs.list_jobs(s, name="telemetry.detect").total == 1


def test_micro_batches_raise_alerts_and_store_events(city: Runtime) -> None:
    take(city, [conn(i, 23) for i in range(5)] + [conn(9, 443)])
    take(city, [conn(20 + i, 23, src="10.0.0.6") for i in range(3)], source="sensor-2")
    report = detect_spooled(city.session, city.settings, clock=city.clock)
    assert report.rules == 1 and report.events == 9 and report.matches == 8
    assert report.created == 2 and report.remaining == 0
    assert spool(city.settings).rows() == 0
    stored = event_store(city.settings).partitions()
    assert [p.dataset for p in stored] == ["zeek.conn"]
    with city.session() as s:
        page = alerts.list_alerts(s)
        counts = sorted((a.key_fields["source.ip"], a.count) for a in page.items)
        assert counts == [("10.0.0.5", 5), ("10.0.0.6", 3)]
        assert page.items[0].rule_author == "CivicShield"
        detail = alerts.get_alert(s, page.items[0].id)
        assert detail.events[0].source.startswith("http:sensor-")
        assert '"id.resp_p":23' in detail.events[0].raw
        health = {h.name: h for h in list_sources(s, clock=city.clock)}
        assert health["http:sensor-1"].events_total == 6
        assert health["http:sensor-1"].lag_seconds is not None
        [conn_health] = list_datasets(s, clock=city.clock)
        assert (conn_health.dataset, conn_health.sources) == ("zeek.conn", 2)
        assert conn_health.events_last_day == 9 and conn_health.events_per_second == 0.03


def test_a_replayed_spool_entry_adds_nothing(city: Runtime, tmp_path: Path) -> None:
    take(city, [conn(i, 23) for i in range(4)])
    [entry] = spool(city.settings).entries()
    keep = tmp_path / "copy.arrow"
    shutil.copy(entry.path, keep)
    detect_spooled(city.session, city.settings, clock=city.clock)
    shutil.copy(keep, entry.path)  # as if the worker died after the commit, before removal
    again = detect_spooled(city.session, city.settings, clock=city.clock)
    assert again.events == 4 and again.created == 0 and again.updated == 1
    with city.session() as s:
        [alert] = alerts.list_alerts(s).items
        assert alert.count == 4


def test_a_full_spool_refuses_new_data(city: Runtime, tmp_path: Path, clock: FrozenClock) -> None:
    settings: Settings = city.settings.model_copy(update={"ingest_spool_max_bytes": 1024 * 1024})
    noise = pl.DataFrame({"x": [os.urandom(1000).hex() for _ in range(1000)]})  # 2 MB
    spool(settings).put(noise, "zeek.conn")
    with city.session() as s, pytest.raises(Overloaded) as caught:
        intake(
            s,
            settings,
            registry=city.jobs,
            clock=clock,
            kind="http",
            source="s",
            lines=[(1, conn(1, 23))],
            fmt="zeek",
        )
    assert caught.value.retry_after > 0


def test_without_rules_events_are_still_stored(
    tmp_path: Path, db_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(tmp_path / "var", database_url=db_url, feeds_path=tmp_path / "none")
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=clock)
    assert "no SigmaHQ rules" in live_rules(settings).note
    take(rt, [conn(1, 23)])
    report = detect_spooled(rt.session, settings, clock=clock)
    assert report.events == 1 and report.rules == 0 and "no SigmaHQ rules" in report.note
    assert event_store(settings).partitions()


def test_a_silent_source_raises_one_alert(city: Runtime, clock: FrozenClock) -> None:
    with city.session() as s:
        for _ in range(4):  # active in four minutes, a minute apart: learned interval 60 s
            note_intake(
                s,
                name="syslog:10.0.0.7",
                kind="syslog",
                dataset="syslog",
                events=5,
                quarantined=0,
                last_event_at=clock.now(),
                now=clock.now(),
            )
            clock.advance(timedelta(minutes=1))
    with city.session() as s:
        assert check_silence(s, clock=clock) == []
        [health] = list_sources(s, clock=clock)
        assert health.status == "ok" and health.learned_interval_seconds == 60
    clock.advance(timedelta(minutes=10))
    with city.session() as s:
        assert check_silence(s, clock=clock) == ["syslog:10.0.0.7"]
        assert check_silence(s, clock=clock) == []  # once per silence
        [alert] = alerts.list_alerts(s).items
        assert (
            alert.kind == "health"
            and "No events from syslog:10.0.0.7" in alerts.get_alert(s, alert.id).events[0].raw
        )


def test_flows_the_segmentation_policy_denies_raise_alerts(
    tmp_path: Path, db_url: str, clock: FrozenClock
) -> None:
    """With the default city policy on: public Wi-Fi to a water PLC on Modbus is denied, the
    engineering workstation's poll is allowed, and each denial is one deduplicated alert."""
    settings = make_settings(
        tmp_path / "var", database_url=db_url, feeds_path=tmp_path / "no-feeds",
        segmentation_enabled=True,
    )  # fmt: skip
    rt = build_runtime(settings, clock=clock)
    upgrade(settings.resolved_database_url)
    wifi = [conn(i, 502, src="10.60.118.77") for i in range(4)]
    engineering = [conn(10 + i, 502, src="10.50.250.7") for i in range(3)]
    take(rt, wifi + engineering)
    report = detect_spooled(rt.session, rt.settings, clock=rt.clock)
    assert report.events == 7 and report.matches == 4 and report.created == 1
    with rt.session() as s:
        [alert] = alerts.list_alerts(s).items
        assert alert.rule_id == "segmentation/ot-from-elsewhere"
        assert alert.severity.value == "critical" and alert.count == 4
        assert "public-wifi → water-scada" in alert.rule_title
        assert alert.rule_author == "CivicShield segmentation policy"
    take(rt, wifi)  # a replay of the same flows in a new batch: the same alert, counted
    again = detect_spooled(rt.session, rt.settings, clock=rt.clock)
    assert again.created == 0 and again.updated == 1
    rt.close()


def _indicator(ident: str, address: str, valid_until: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{ident}",
        "created": "2026-11-20T00:00:00.000Z", "modified": "2026-11-20T00:00:00.000Z",
        "name": f"Kraken C2 {address}", "pattern": f"[ipv4-addr:value = '{address}']",
        "pattern_type": "stix", "valid_from": "2026-11-20T00:00:00Z",
    }  # fmt: skip
    if valid_until:
        item["valid_until"] = valid_until
    return item


def test_events_matching_an_active_indicator_raise_intel_alerts(city: Runtime) -> None:
    """A flow from an address a peer city shared raises an alert; an expired indicator and an
    address nobody shared raise none."""
    from civicshield import intel
    from civicshield.core import SYSTEM

    bundle = {
        "type": "bundle", "id": "bundle--6f1b4b54-7d0a-4f2c-9f4e-2d4c7a4b3c21",
        "objects": [
            _indicator("0b3f8f66-3f0b-4a55-9d6a-5f2a0c1e9a11", "10.0.0.6"),
            _indicator("1c4a9f77-4a1c-4b66-8e7b-6a3b1d2f0b22", "10.0.0.5",
                       valid_until="2026-11-21T00:00:00Z"),
        ],
    }  # fmt: skip
    with city.session() as s:
        report = intel.import_stix(s, bundle, location="peer", actor=SYSTEM, clock=city.clock)
        assert not report.refused
    take(city, [conn(i, 443) for i in range(3)])  # from 10.0.0.5: its indicator expired
    take(city, [conn(10 + i, 443, src="10.0.0.6") for i in range(2)], source="sensor-2")
    take(city, [conn(20, 443, src="10.9.9.9")], source="sensor-3")
    detect_spooled(city.session, city.settings, clock=city.clock)
    with city.session() as s:
        found = [a for a in alerts.list_alerts(s).items if a.rule_id.startswith("intel/")]
    assert [(a.key_fields["source.ip"], a.count) for a in found] == [("10.0.0.6", 2)]
    assert found[0].rule_title.startswith("Threat intel: Kraken C2 10.0.0.6 (source.ip")
    assert found[0].rule_author == "Threat intelligence"
