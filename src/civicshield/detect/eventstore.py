"""The event store: Parquet files partitioned by dataset and day, written atomically.

Layout under the store root::

    <dataset>/<YYYY-MM-DD>/part-<time>-<random>.parquet
    <dataset>/<YYYY-MM-DD>/.merged     names of the files a compaction merged into the partition
    .tmp/          files being written (never read; cleared when the store opens)
    .trash/        partitions being replaced by a compaction (restored if one was interrupted)
    .lock          held (fcntl) by every writer, compaction and retention run

A write goes to `.tmp/` first and is renamed into its partition when complete: `rename` is atomic
on one file system, so a reader sees a whole file or none, and a crash (even `kill -9`) leaves at
most a file in `.tmp/`. An event's day is the UTC day of its `@timestamp`; events without one go to
the day they were stored (the `_stored_day` column says which happened).

Schemas differ between datasets and even between batches of one dataset (a key first seen later
is a new column): `scan` unions the files by column name, a missing column reads as null. Reads
never need the lock: they list complete files only.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from civicshield.core.errors import Invalid

__all__ = [
    "MERGED",
    "STORED_DAY",
    "EventStore",
    "Partition",
    "RetentionReport",
    "WriteReport",
    "check_name",
    "hunt",
    "parse_since",
]

STORED_DAY = "_stored_day"  # True when the event had no @timestamp and was filed by store day
_TIMESTAMP = "@timestamp"
MERGED = ".merged"  # in a partition: names of the files compactions merged into it
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


@dataclass(frozen=True)
class Partition:
    dataset: str
    day: date
    path: Path
    files: int
    bytes: int


@dataclass
class WriteReport:
    dataset: str
    rows: int = 0
    files: list[Path] = field(default_factory=list)


@dataclass
class RetentionReport:
    removed: list[Partition] = field(default_factory=list)

    @property
    def bytes(self) -> int:
        return sum(p.bytes for p in self.removed)


def check_name(value: str, what: str = "dataset") -> str:
    """A dataset or reader name: it becomes a folder name, so a-z, 0-9, '.', '_', '-' only."""
    if not value or not set(value) <= _SAFE or value.startswith("."):
        raise Invalid(
            f"{what} name {value!r} must use only a-z, 0-9, '.', '_' and '-' and not start with '.'"
        )
    return value


class EventStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / ".tmp"
        self._trash = root / ".trash"
        root.mkdir(parents=True, exist_ok=True)
        self._tmp.mkdir(exist_ok=True)
        self._trash.mkdir(exist_ok=True)
        with self._locked():
            self._recover()

    # --- locking and recovery -----------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.root / ".lock").open("a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _recover(self) -> None:
        """Drop half-written files; put back a partition a compaction had moved away."""
        for leftover in self._tmp.iterdir():
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        for moved in self._trash.iterdir():
            # .trash/<dataset>__<day>__<token>: restore when the partition is missing.
            dataset, day, _ = moved.name.split("__", 2)
            target = self.root / dataset / day
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(moved, target)
            else:
                shutil.rmtree(moved, ignore_errors=True)

    # --- writing ------------------------------------------------------------------------

    def _new_name(self) -> str:
        return f"part-{time.time_ns():020d}-{secrets.token_hex(4)}.parquet"

    def write(
        self, frame: pl.DataFrame, dataset: str, *, now: datetime | None = None
    ) -> WriteReport:
        """Store a batch: one new file per day it covers, each renamed in when complete."""
        check_name(dataset)
        report = WriteReport(dataset)
        if frame.height == 0:
            return report
        today = (now or datetime.now(UTC)).astimezone(UTC).date()
        if _TIMESTAMP in frame.columns:
            ts = frame.get_column(_TIMESTAMP)
            if ts.dtype != pl.Datetime("us", "UTC"):
                raise Invalid(f"{_TIMESTAMP} must be a UTC datetime column, not {ts.dtype}")
            day = pl.col(_TIMESTAMP).dt.date().fill_null(today)
            missing = pl.col(_TIMESTAMP).is_null()
        else:
            day = pl.lit(today)
            missing = pl.lit(True)
        frame = frame.with_columns(missing.alias(STORED_DAY), day.alias("__day"))
        with self._locked():
            for (part_day,), part in frame.partition_by("__day", as_dict=True).items():
                assert isinstance(part_day, date)
                data = part.drop("__day")
                tmp = self._tmp / self._new_name()
                # zstd level 1: the same size as the default level here, ~20 % less CPU
                data.write_parquet(tmp, compression="zstd", compression_level=1, statistics=True)
                with tmp.open("rb") as handle:
                    os.fsync(handle.fileno())
                target_dir = self.root / dataset / part_day.isoformat()
                target_dir.mkdir(parents=True, exist_ok=True)
                target = target_dir / tmp.name
                os.replace(tmp, target)
                report.files.append(target)
                report.rows += data.height
        return report

    # --- reading ------------------------------------------------------------------------

    def partitions(
        self,
        *,
        datasets: Sequence[str] | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[Partition]:
        found: list[Partition] = []
        for ds_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if ds_dir.name.startswith(".") or (datasets and ds_dir.name not in datasets):
                continue
            for day_dir in sorted(ds_dir.iterdir()):
                try:
                    day = date.fromisoformat(day_dir.name)
                except ValueError:
                    continue
                if (since and day < since) or (until and day > until):
                    continue
                files = list(day_dir.glob("*.parquet"))
                if files:
                    size = sum(f.stat().st_size for f in files)
                    found.append(Partition(ds_dir.name, day, day_dir, len(files), size))
        return found

    def scan(
        self,
        *,
        datasets: Sequence[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> pl.LazyFrame:
        """Every stored event in the range as one lazy frame (columns unioned by name), with
        `event.dataset` and the partition `day`; partitions outside the range are not opened
        and the time filter is pushed to the Parquet reader."""
        parts = self.partitions(
            datasets=datasets,
            since=since.astimezone(UTC).date() if since else None,
            until=until.astimezone(UTC).date() if until else None,
        )
        frames = [
            pl.scan_parquet(f).with_columns(
                pl.lit(p.dataset).alias("event.dataset"), pl.lit(p.day).alias("day")
            )
            for p in parts
            for f in sorted(p.path.glob("*.parquet"))
        ]
        if not frames:
            return pl.LazyFrame({_TIMESTAMP: pl.Series([], dtype=pl.Datetime("us", "UTC"))})
        lazy = pl.concat(frames, how="diagonal_relaxed")
        if since is not None:
            lazy = lazy.filter(pl.col(_TIMESTAMP) >= since)
        if until is not None:
            lazy = lazy.filter(pl.col(_TIMESTAMP) <= until)
        return lazy

    # --- maintenance --------------------------------------------------------------------

    def compact(self, *, min_files: int = 2) -> list[Partition]:
        """Rewrite each partition of `min_files` or more files as one file. The new partition
        is built beside the old one and swapped in with two renames; a crash between them is
        undone when the store next opens."""
        done: list[Partition] = []
        with self._locked():
            for part in self.partitions():
                if part.files < min_files:
                    continue
                files = sorted(part.path.glob("*.parquet"))
                merged = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
                staging = self._tmp / f"compact-{secrets.token_hex(6)}"
                staging.mkdir()
                merged.write_parquet(staging / self._new_name(), compression="zstd")
                names = self._merged_names(part.path) | {f.name for f in files}
                (staging / MERGED).write_text("\n".join(sorted(names)) + "\n", encoding="utf-8")
                parked = self._trash / f"{part.dataset}__{part.day}__{secrets.token_hex(4)}"
                os.replace(part.path, parked)
                os.replace(staging, part.path)
                shutil.rmtree(parked, ignore_errors=True)
                done.extend(
                    self.partitions(datasets=[part.dataset], since=part.day, until=part.day)
                )
        return done

    @staticmethod
    def _merged_names(folder: Path) -> set[str]:
        try:
            text = (folder / MERGED).read_text(encoding="utf-8")
        except FileNotFoundError:
            return set()
        return set(text.split())

    def holds(self, dataset: str, day: str, name: str) -> bool:
        """Whether the file `name` is in the partition, as itself or merged by a compaction
        (a writer that names its files after their origin can tell a replay from new data).
        Call it holding the store's lock, or a compaction may be moving the partition."""
        folder = self.root / dataset / day
        return (folder / name).exists() or name in self._merged_names(folder)

    def apply_retention(
        self,
        *,
        keep_days: dict[str, int] | None = None,
        default_days: int | None = None,
        max_bytes: int | None = None,
        today: date | None = None,
    ) -> RetentionReport:
        """Remove partitions older than their dataset's retention, then the oldest ones until
        the store fits `max_bytes`."""
        report = RetentionReport()
        today = today or datetime.now(UTC).date()
        with self._locked():
            parts = self.partitions()
            kept: list[Partition] = []
            for part in parts:
                days = (keep_days or {}).get(part.dataset, default_days)
                if days is not None and part.day < today - timedelta(days=days):
                    self._remove(part)
                    report.removed.append(part)
                else:
                    kept.append(part)
            if max_bytes is not None:
                total = sum(p.bytes for p in kept)
                for part in sorted(kept, key=lambda p: (p.day, p.dataset)):
                    if total <= max_bytes:
                        break
                    self._remove(part)
                    report.removed.append(part)
                    total -= part.bytes
        return report

    def _remove(self, part: Partition) -> None:
        parked = self._trash / f"{part.dataset}__{part.day}__{secrets.token_hex(4)}"
        os.replace(part.path, parked)  # gone for readers at once; deleted below
        shutil.rmtree(parked, ignore_errors=True)


def parse_since(text: str, *, now: datetime) -> datetime:
    """`30d`, `12h`, `45m` before `now`, or an ISO 8601 date/time (UTC when no offset)."""
    value = text.strip()
    units = {"d": "days", "h": "hours", "m": "minutes"}
    if value[:-1].isdigit() and value[-1:] in units:
        return now - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{text!r} is neither a duration (30d, 12h, 45m) nor an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def hunt(
    store: EventStore,
    sql: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    datasets: Sequence[str] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Run a Polars SQL query over the stored events, the table being `events`. The time range
    and datasets prune partitions before the query runs; Polars pushes the query's own filters
    and column choice down to the Parquet reader."""
    events = store.scan(datasets=datasets, since=since, until=until)
    context = pl.SQLContext(events=events, eager=False)
    try:
        result = context.execute(sql)
        if limit is not None:
            result = result.limit(limit)
        return result.collect()
    except (pl.exceptions.PolarsError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Invalid(f"hunt query failed: {first}") from None
