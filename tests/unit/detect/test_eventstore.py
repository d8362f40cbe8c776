"""The Parquet event store: partitions, schema union, retention, compaction, atomic writes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from civicshield.core.errors import Invalid
from civicshield.detect.eventstore import STORED_DAY, EventStore, hunt, parse_since

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TS = pl.Datetime("us", "UTC")


def batch(days: list[int | None], **columns: list[str]) -> pl.DataFrame:
    stamps = [NOW - timedelta(days=d) if d is not None else None for d in days]
    return pl.DataFrame({"@timestamp": pl.Series(stamps, dtype=TS), **columns})


def test_write_partitions_by_day_and_scan_unions_schemas(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    store.write(batch([0, 1, 1], a=["x", "y", "z"]), "zeek.conn", now=NOW)
    store.write(batch([0], b=["late key"]), "zeek.conn", now=NOW)
    store.write(batch([None], a=["no time"]), "syslog", now=NOW)
    parts = {(p.dataset, p.day): p.files for p in store.partitions()}
    assert parts == {
        ("syslog", date(2026, 11, 22)): 1,
        ("zeek.conn", date(2026, 11, 21)): 1,
        ("zeek.conn", date(2026, 11, 22)): 2,
    }
    every = store.scan().collect()
    assert every.height == 5 and {"a", "b", STORED_DAY, "day"} <= set(every.columns)
    assert every.filter(pl.col("b").is_not_null())["b"].to_list() == ["late key"]
    assert every.filter(pl.col(STORED_DAY))["a"].to_list() == ["no time"]
    recent = store.scan(datasets=["zeek.conn"], since=NOW - timedelta(hours=1)).collect()
    assert sorted(recent["a"].drop_nulls().to_list()) == ["x"] and recent.height == 2


def test_bad_dataset_names_and_timestamp_types_are_refused(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    with pytest.raises(Invalid, match="dataset name"):
        store.write(batch([0]), "../etc")
    with pytest.raises(Invalid, match="UTC datetime"):
        store.write(pl.DataFrame({"@timestamp": ["2026-01-01"]}), "x")


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    for d in range(10):
        store.write(batch([d] * 50, a=["v" * 100] * 50), "zeek.dns", now=NOW)
        store.write(batch([d] * 50, a=["w" * 100] * 50), "syslog", now=NOW)
    report = store.apply_retention(keep_days={"syslog": 3}, today=NOW.date())
    assert {p.dataset for p in report.removed} == {"syslog"} and len(report.removed) == 6
    assert min(p.day for p in store.partitions(datasets=["syslog"])) == date(2026, 11, 19)
    total = sum(p.bytes for p in store.partitions())
    budget = total // 2
    trimmed = store.apply_retention(max_bytes=budget, today=NOW.date())
    assert sum(p.bytes for p in store.partitions()) <= budget
    oldest_left = min(p.day for p in store.partitions())
    assert all(p.day <= oldest_left for p in trimmed.removed)


def test_compaction_keeps_every_row(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    for i in range(5):
        store.write(batch([0, 0], a=[f"{i}-1", f"{i}-2"]), "cef", now=NOW)
    before = sorted(store.scan().collect()["a"].to_list())
    (part,) = store.compact()
    assert part.files == 1
    assert sorted(store.scan().collect()["a"].to_list()) == before


def test_a_partition_remembers_the_files_compactions_merged(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    first = [store.write(batch([0], a=[str(i)]), "cef", now=NOW).files[0] for i in range(2)]
    day = first[0].parent.name
    assert store.holds("cef", day, first[0].name)  # as itself
    store.compact()
    later = store.write(batch([0], a=["2"]), "cef", now=NOW).files[0]
    (part,) = store.compact()  # a second compaction keeps the first one's names
    assert part.files == 1 and not first[0].exists() and not later.exists()
    for name in (*(f.name for f in first), later.name):
        assert store.holds("cef", day, name)
    assert not store.holds("cef", day, "part-0-never.parquet")
    assert not store.holds("cef", "2001-01-01", first[0].name)
    assert store.scan().collect().height == 3  # the list is not read as data


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    import polars as pl
    from civicshield.detect.eventstore import EventStore
    store = EventStore(__import__("pathlib").Path(sys.argv[1]))
    n = 400_000
    frame = pl.DataFrame({
        "@timestamp": pl.Series([datetime(2026, 11, 22, tzinfo=UTC)] * n,
                                dtype=pl.Datetime("us", "UTC")),
        "text": [f"event {i} " * 8 for i in range(n)],
    })
    print("ready", flush=True)
    while True:
        store.write(frame, "stress")
    """
)


def test_kill_9_during_writes_leaves_a_readable_store(tmp_path: Path) -> None:
    root = tmp_path / "store"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        # Kill it while a file is being written: wait until one exists in .tmp/.
        while time.monotonic() < deadline:
            if any((root / ".tmp").glob("*.parquet")) and any(root.glob("stress/*/*.parquet")):
                break
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    store = EventStore(root)  # recovery: half-written files go
    assert not any((root / ".tmp").iterdir())
    files = sorted(root.glob("stress/*/*.parquet"))
    assert files
    rows = store.scan().collect().height
    assert rows == 400_000 * len(files)  # every visible file is whole


def test_hunt_with_sql_time_range_and_errors(tmp_path: Path) -> None:
    store = EventStore(tmp_path)
    store.write(batch([0, 0, 2], a=["x", "y", "x"]), "zeek.dns", now=NOW)
    store.write(batch([0], a=["x"]), "syslog", now=NOW)
    sql = "SELECT \"event.dataset\" AS ds, count(*) AS n FROM events WHERE a = 'x' GROUP BY 1"
    rows = hunt(store, sql, since=parse_since("1d", now=NOW)).sort("ds").rows()
    assert rows == [("syslog", 1), ("zeek.dns", 1)]
    only_dns = hunt(store, "SELECT a FROM events", datasets=["zeek.dns"], limit=10)
    assert only_dns.height == 3
    with pytest.raises(Invalid, match="hunt query failed"):
        hunt(store, "SELECT nope FROM events")
    assert parse_since("2026-11-01", now=NOW) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(Invalid, match="duration"):
        parse_since("yesterday", now=NOW)
