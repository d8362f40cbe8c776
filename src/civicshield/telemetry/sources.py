"""Ingest health: every source that sends events, its rate, lag and silence.

A source is named `<kind>:<what>` (`http:zeek.conn@token-name`, `syslog:10.0.0.7`,
`tail:/var/log/suricata/eve.json`). Each intake adds to its totals and to a per-minute row (kept
two days) from which rates are read. A source falls silent when nothing arrived for longer than
its expected interval times `CIVICSHIELD_SOURCE_SILENCE_FACTOR`; the interval is set by a
person or, when unset, learned: the longest gap between its active minutes over the last day
(at least a minute, and only once it was active in three different minutes). A silent source
raises one alert (kind `health`) each time it falls silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicshield import alerts, audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import FieldError, Invalid, NotFound
from civicshield.telemetry.models import IngestMinute, IngestSource

__all__ = [
    "SILENT_RULE_ID",
    "DatasetHealth",
    "SourceHealth",
    "check_silence",
    "list_datasets",
    "list_sources",
    "note_intake",
    "note_lag",
    "prune_minutes",
    "set_expected_interval",
]

SILENT_RULE_ID = "civicshield-source-silent"
_RATE_WINDOW = timedelta(minutes=5)
_KEEP = timedelta(days=2)


def note_intake(
    session: Session,
    *,
    name: str,
    kind: str,
    dataset: str,
    events: int,
    quarantined: int,
    last_event_at: datetime | None,
    now: datetime,
    datasets: dict[str, int] | None = None,
) -> None:
    """Count one intake of `events` accepted (per stored dataset in `datasets`, else all under
    `dataset`) and `quarantined` records (counted under `dataset`) from a source."""
    name = name[:300]
    source = session.scalars(select(IngestSource).where(IngestSource.name == name)).one_or_none()
    if source is None:
        source = IngestSource(
            name=name,
            kind=kind,
            dataset=dataset,
            first_seen_at=now,
            last_received_at=now,
            events_total=0,
            quarantined_total=0,
            enabled=True,
        )
        session.add(source)
        session.flush()
    source.dataset = dataset
    source.last_received_at = now
    source.events_total += events
    source.quarantined_total += quarantined
    source.silent_since = None
    newest = as_utc(source.last_event_at)
    if last_event_at is not None and (newest is None or last_event_at > newest):
        source.last_event_at = last_event_at
    minute = now.replace(second=0, microsecond=0)
    counts = dict(datasets or {dataset: events})
    bad = {dataset: quarantined} if quarantined else {}
    for name in sorted(set(counts) | set(bad)):
        row = session.scalars(
            select(IngestMinute).where(
                IngestMinute.source_id == source.id,
                IngestMinute.dataset == name,
                IngestMinute.minute == minute,
            )
        ).one_or_none()
        if row is None:
            row = IngestMinute(
                source_id=source.id, dataset=name, minute=minute, events=0, quarantined=0
            )
            session.add(row)
        row.events += counts.get(name, 0)
        row.quarantined += bad.get(name, 0)
    session.flush()


def note_lag(session: Session, lags: dict[str, float]) -> None:
    """Record, per source name, the seconds from its newest event's time to its alerts."""
    if not lags:
        return
    for source in session.scalars(select(IngestSource).where(IngestSource.name.in_(lags))):
        source.lag_seconds = round(lags[source.name], 3)
    session.flush()


@dataclass(frozen=True)
class SourceHealth:
    id: int
    name: str
    kind: str
    dataset: str
    events_total: int
    quarantined_total: int
    events_per_second: float  # over the last five minutes
    last_received_at: datetime
    last_event_at: datetime | None
    lag_seconds: float | None
    expected_interval_seconds: int | None  # set by a person
    learned_interval_seconds: int | None
    silent_since: datetime | None
    status: str  # "ok", "silent", "learning"

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat()
        return out


def _minutes(session: Session, since: datetime) -> pl.DataFrame:
    rows = session.execute(
        select(IngestMinute.source_id, IngestMinute.minute, IngestMinute.events).where(
            IngestMinute.minute >= since
        )
    ).all()
    return pl.DataFrame(
        [(s, as_utc(m), e) for s, m, e in rows],
        schema={"source": pl.Int64, "minute": pl.Datetime("us", "UTC"), "events": pl.Int64},
        orient="row",
    )


def _learned(minutes: pl.DataFrame) -> dict[int, int]:
    """Longest gap (seconds) between a source's active minutes over the window."""
    if minutes.height == 0:
        return {}
    gaps = (
        minutes.filter(pl.col("events") > 0)
        .sort("source", "minute")
        .group_by("source")
        .agg(
            pl.len().alias("n"),
            pl.col("minute").diff().dt.total_seconds().max().alias("gap"),
        )
        .filter(pl.col("n") >= 3)
    )
    return {s: max(60, int(g or 60)) for s, _, g in gaps.iter_rows()}


def list_sources(session: Session, *, clock: Clock, factor: float = 3.0) -> list[SourceHealth]:
    now = clock.now()
    minutes = _minutes(session, now - timedelta(days=1))
    learned = _learned(minutes)
    recent = minutes.filter(pl.col("minute") >= now - _RATE_WINDOW)
    rates = dict(recent.group_by("source").agg(pl.col("events").sum()).iter_rows())
    out = []
    for s in session.scalars(select(IngestSource).order_by(IngestSource.name)):
        interval = s.expected_interval_seconds or learned.get(s.id)
        received = as_utc(s.last_received_at)
        assert received is not None
        if interval is None:
            status = "learning"
        elif (now - received).total_seconds() > interval * factor:
            status = "silent"
        else:
            status = "ok"
        out.append(
            SourceHealth(
                id=s.id,
                name=s.name,
                kind=s.kind,
                dataset=s.dataset,
                events_total=s.events_total,
                quarantined_total=s.quarantined_total,
                events_per_second=round(rates.get(s.id, 0) / _RATE_WINDOW.total_seconds(), 3),
                last_received_at=received,
                last_event_at=as_utc(s.last_event_at),
                lag_seconds=s.lag_seconds,
                expected_interval_seconds=s.expected_interval_seconds,
                learned_interval_seconds=learned.get(s.id),
                silent_since=as_utc(s.silent_since),
                status=status,
            )
        )
    return out


@dataclass(frozen=True)
class DatasetHealth:
    dataset: str
    sources: int
    events_per_second: float  # over the last five minutes
    events_last_day: int
    quarantined_last_day: int
    last_event_at: datetime | None
    lag_seconds: float | None  # the largest of its sources' lags

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        if self.last_event_at is not None:
            out["last_event_at"] = self.last_event_at.isoformat()
        return out


def list_datasets(session: Session, *, clock: Clock) -> list[DatasetHealth]:
    """Ingest health per dataset: rate over five minutes, the last day's events and
    quarantined records, the newest event and the worst lag of the sources feeding it."""
    now = clock.now()
    rows = session.execute(
        select(
            IngestMinute.dataset,
            IngestMinute.source_id,
            IngestMinute.minute,
            IngestMinute.events,
            IngestMinute.quarantined,
        ).where(IngestMinute.minute >= now - timedelta(days=1))
    ).all()
    sources = {s.id: s for s in session.scalars(select(IngestSource))}
    found: dict[str, dict[str, Any]] = {}
    for dataset, source_id, minute, events, quarantined in rows:
        entry = found.setdefault(
            dataset, {"sources": set(), "recent": 0, "events": 0, "quarantined": 0}
        )
        entry["sources"].add(source_id)
        entry["events"] += events
        entry["quarantined"] += quarantined
        stamp = as_utc(minute)
        if stamp is not None and stamp >= now - _RATE_WINDOW:
            entry["recent"] += events
    out = []
    for dataset, entry in sorted(found.items()):
        feeding = [sources[i] for i in entry["sources"] if i in sources]
        lags = [s.lag_seconds for s in feeding if s.lag_seconds is not None]
        newest = [t for s in feeding if (t := as_utc(s.last_event_at)) is not None]
        out.append(
            DatasetHealth(
                dataset=dataset,
                sources=len(feeding),
                events_per_second=round(entry["recent"] / _RATE_WINDOW.total_seconds(), 3),
                events_last_day=entry["events"],
                quarantined_last_day=entry["quarantined"],
                last_event_at=max(newest) if newest else None,
                lag_seconds=max(lags) if lags else None,
            )
        )
    return out


def check_silence(
    session: Session, *, clock: Clock, factor: float = 3.0, window_seconds: int = 3600
) -> list[str]:
    """Raise one health alert for each source that fell silent since the last check; returns
    their names."""
    now = clock.now()
    fallen = []
    for health in list_sources(session, clock=clock, factor=factor):
        if health.status != "silent" or health.silent_since is not None:
            continue
        source = session.get(IngestSource, health.id)
        assert source is not None
        source.silent_since = now
        interval = health.expected_interval_seconds or health.learned_interval_seconds
        text = (
            f"No events from {source.name} since {health.last_received_at.isoformat()} "
            f"(expected at least every {interval} s)"
        )
        frame = pl.DataFrame(
            {
                "rule_id": [SILENT_RULE_ID],
                "rule_title": ["Telemetry source went silent"],
                "level": ["medium"],
                "author": ["CivicShield"],
                "tags": [["attack.defense-evasion", "attack.t1562"]],
                "event.dataset": [source.dataset],
                "@timestamp": [now],
                "_raw": [text],
                "_source": [source.name],
                "host.name": [source.name.lower()],
            },
            schema_overrides={"@timestamp": pl.Datetime("us", "UTC")},
        )
        alerts.record_matches(
            session,
            frame,
            batch_id=f"silent:{source.id}:{int(now.timestamp())}",
            clock=clock,
            window_seconds=window_seconds,
            kind="health",
        )
        fallen.append(source.name)
    session.flush()
    return fallen


def set_expected_interval(
    session: Session, source_id: int, seconds: int | None, *, actor: Actor, clock: Clock
) -> None:
    source = session.get(IngestSource, source_id)
    if source is None:
        raise NotFound(f"ingest source {source_id} does not exist")
    if seconds is not None and not 60 <= seconds <= 30 * 86400:
        raise Invalid(
            "the expected interval is out of range",
            [FieldError(("body", "expected_interval_seconds"), "between 60 s and 30 days")],
        )
    old, source.expected_interval_seconds = source.expected_interval_seconds, seconds
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="ingest_source.update",
        entity_type="ingest_source",
        entity_id=source.id,
        clock=clock,
        summary=f"{source.name}: expected interval {old} -> {seconds} s",
    )


def prune_minutes(session: Session, *, now: datetime) -> int:
    result = session.execute(delete(IngestMinute).where(IngestMinute.minute < now - _KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
