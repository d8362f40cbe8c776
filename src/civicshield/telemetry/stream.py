"""Continuous detection: the spooled events, micro-batch by micro-batch, through the engine.

One micro-batch is the oldest spool entries up to `CIVICSHIELD_DETECT_BATCH_EVENTS` events.
For each dataset in it: evaluate the live rule set (`detect.live`), write the matches as alerts
(one alert batch per spool entry, so a replay after a crash replaces instead of adding), then
commit; only after the commit are the events written to the event store and the entries
removed from the spool. A crash before the commit loses nothing (the entries are still
spooled and run again, idempotently); a crash between the store write and the removal writes
those events to the store a second time (at least once), never loses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from civicshield import alerts, intel
from civicshield.core import Settings
from civicshield.core.clock import Clock
from civicshield.detect.live import LiveRules, evaluate_live, live_rules
from civicshield.detect.live_correlation import History
from civicshield.detect.segmentation import WINDOW_SECONDS as SEGMENT_WINDOW
from civicshield.detect.segmentation import violation_matches
from civicshield.telemetry.paths import event_store, spool
from civicshield.telemetry.sources import note_lag
from civicshield.telemetry.spool import SpoolEntry

__all__ = ["ENTRY", "Found", "StreamReport", "detect_spooled", "find_matches", "record_found"]

UnitOfWork = Callable[[], AbstractContextManager[Session]]
ENTRY = "_entry"


@dataclass
class StreamReport:
    batches: int = 0
    events: int = 0
    matches: int = 0
    created: int = 0
    updated: int = 0
    suppressed: int = 0
    remaining: int = 0
    rules: int = 0
    note: str = ""
    datasets: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _take(entries: list[SpoolEntry], limit: int) -> list[SpoolEntry]:
    chosen: list[SpoolEntry] = []
    rows = 0
    for entry in entries:
        if chosen and rows + entry.rows > limit:
            break
        chosen.append(entry)
        rows += entry.rows
    return chosen


def detect_spooled(
    unit_of_work: UnitOfWork,
    settings: Settings,
    *,
    clock: Clock,
    rules: LiveRules | None = None,
    max_batches: int = 20,
) -> StreamReport:
    """Run up to `max_batches` micro-batches; `remaining` says how many events still wait."""
    box, store = spool(settings), event_store(settings)
    live = rules or live_rules(settings)
    report = StreamReport(rules=len(live.ruleset.rules), note=live.note)
    for _ in range(max_batches):
        chosen = _take(box.entries(), settings.detect_batch_events)
        if not chosen:
            break
        frames = _by_dataset(box, chosen)
        with unit_of_work() as session:
            for dataset, frame in frames.items():
                _detect(session, settings, clock, live, dataset, frame, report)
        for dataset, frame in frames.items():  # committed: now the store, then the spool
            store.write(frame.drop(ENTRY), dataset, now=clock.now())
            report.datasets[dataset] = report.datasets.get(dataset, 0) + frame.height
        for entry in chosen:
            box.done(entry)
        report.batches += 1
    report.remaining = box.rows()
    return report


def _by_dataset(box: Any, chosen: list[SpoolEntry]) -> dict[str, pl.DataFrame]:
    parts: dict[str, list[pl.DataFrame]] = {}
    for entry in chosen:
        frame = box.read(entry).with_columns(pl.lit(entry.id, dtype=pl.String).alias(ENTRY))
        parts.setdefault(entry.dataset, []).append(frame)
    return {
        name: frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        for name, frames in parts.items()
    }


@dataclass(frozen=True)
class Found:
    """One dataset batch's matches: rule matches and segmentation violations (not yet written)."""

    dataset: str
    rules: pl.DataFrame
    segmentation: pl.DataFrame | None


DAY = 24 * 3600


def correlation_hits_of(live: LiveRules) -> pl.Expr:
    """Which match rows are correlation hits (their alerts deduplicate by day)."""
    return pl.col("rule_id").is_in([c.rule.id for c in live.correlations])


def stored_history(settings: Settings) -> History:
    """What live correlation reads back: a dataset's stored events in a time range, lazily (the
    matcher selects the columns and pushes its filters down to the Parquet files). The batch
    being evaluated is stored only after its alerts are written, so it is never read twice."""
    store = event_store(settings)

    def history(
        dataset: str, since: datetime, until: datetime, columns: Sequence[str] | None
    ) -> pl.LazyFrame:
        return store.scan(datasets=[dataset], since=since, until=until)

    return history


def find_matches(settings: Settings, live: LiveRules, dataset: str, frame: pl.DataFrame) -> Found:
    """Evaluate one dataset batch (with its `_entry` column): no database, so a Redis Streams
    worker can do this before it takes the alert-writing lock."""
    matches = evaluate_live(live, frame, dataset, history=stored_history(settings))
    segments = None
    if settings.segmentation_enabled:
        segments = violation_matches(frame, dataset, settings.data_dir)
    return Found(dataset, matches, segments)


def record_found(
    session: Session,
    settings: Settings,
    clock: Clock,
    live: LiveRules,
    frame: pl.DataFrame,
    found: Found,
    report: StreamReport,
) -> None:
    """Write `found` as alerts, one alert batch per `_entry` value and kind (idempotent per
    entry): Sigma matches by the hour; correlation hits and segmentation violations, standing
    patterns (a device reaching many destinations hour after hour), and indicator hits (a
    compromised camera beacons all day), by the day."""
    report.events += frame.height
    index = alerts.AssetIndex(session)  # one inventory lookup for the whole batch
    hits = correlation_hits_of(live)
    hourly, daily = settings.alert_window_seconds, max(settings.alert_window_seconds, DAY)
    intel_hits = intel.indicator_matches(session, frame, found.dataset, now=clock.now())
    for matches, kind, suffix, window in (
        (found.rules.filter(~hits), "sigma", "", hourly),
        (found.rules.filter(hits), "sigma", "/correlation", daily),
        (found.segmentation, "segmentation", "/segmentation", max(daily, SEGMENT_WINDOW)),
        (intel_hits, "intel", "/intel", daily),  # a standing contact: once a day
    ):
        if matches is None or matches.height == 0:
            continue
        report.matches += matches.height
        for (entry,), part in matches.partition_by(ENTRY, as_dict=True).items():
            done = alerts.record_matches(
                session, part, batch_id=f"{entry}{suffix}", clock=clock, window_seconds=window,
                samples=settings.alert_sample_events, rule_paths=live.paths, kind=kind,
                asset_index=index,
            )  # fmt: skip
            report.created += len(done.created)
            report.updated += len(done.updated)
            report.suppressed += done.suppressed
    if intel_hits.height:  # after the alerts: sightings count each entry once (replays)
        intel.record_sightings(session, intel_hits, now=clock.now(), settings=settings)
    note_lag(session, _lags(frame, clock.now()))


def _detect(
    session: Session,
    settings: Settings,
    clock: Clock,
    live: LiveRules,
    dataset: str,
    frame: pl.DataFrame,
    report: StreamReport,
) -> None:
    found = find_matches(settings, live, dataset, frame)
    record_found(session, settings, clock, live, frame, found, report)


def _lags(frame: pl.DataFrame, now: datetime) -> dict[str, float]:
    """Per source: seconds from its newest event's time to now (its detection lag)."""
    if "_source" not in frame.columns or "@timestamp" not in frame.columns:
        return {}
    newest = frame.group_by("_source").agg(pl.col("@timestamp").max()).drop_nulls()
    return {
        str(source): max(0.0, (now - stamp).total_seconds()) for source, stamp in newest.iter_rows()
    }
