"""Event-store upkeep with the settings: compaction and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from civicshield.detect.eventstore import EventStore
from civicshield.telemetry.maintenance import maintain_event_store
from tests.conftest import make_settings

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def fill(root: Path) -> EventStore:
    store = EventStore(root)
    for days_ago in (1, 1, 10, 40):
        stamps = pl.Series([NOW - timedelta(days=days_ago)], dtype=pl.Datetime("us", "UTC"))
        for dataset in ("zeek.conn", "syslog"):
            store.write(pl.DataFrame({"@timestamp": stamps, "x": ["1"]}), dataset, now=NOW)
    return store


def test_retention_per_dataset_default_and_compaction(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path / "var", events_retention_days=30, events_retention={"syslog": 5}
    )
    store = fill(settings.data_dir / "events")
    report = maintain_event_store(settings, today=NOW.date())
    kept = {(p.dataset, p.day.isoformat(), p.files) for p in store.partitions()}
    assert kept == {
        ("zeek.conn", "2026-11-21", 1),  # two files compacted into one
        ("zeek.conn", "2026-11-12", 1),
        ("syslog", "2026-11-21", 1),
    }
    assert {f"{p.dataset}/{p.day}" for p in report.removed} == {
        "zeek.conn/2026-10-13",
        "syslog/2026-10-13",
        "syslog/2026-11-12",
    }
    assert store.scan().collect().height == 5  # nothing lost by compaction
