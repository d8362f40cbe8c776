"""The one way received telemetry comes in: read it, quarantine what does not read, spool what
does, count it for ingest health, and make sure a detection run is queued. With
`CIVICSHIELD_REDIS_URL` set, accepted events go to the dataset's Redis stream instead (read by
`civicshield worker detect`) and no detection job is queued.

Used by the HTTP ingest endpoint, the syslog listener and file tailing alike. The caller's unit
of work commits the health counters and the queued job; the spool and quarantine files are
written at once (they are files, durable before the sender hears "accepted").
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from civicshield import jobs
from civicshield.core import Settings
from civicshield.core.clock import Clock
from civicshield.core.errors import Invalid, Overloaded
from civicshield.detect.eventstore import check_name
from civicshield.detect.ingest import STREAMABLE, parse_lines
from civicshield.jobs import JobRegistry
from civicshield.telemetry import redis_streams
from civicshield.telemetry.jobs import DETECT_JOB
from civicshield.telemetry.paths import quarantine_store, spool
from civicshield.telemetry.sources import note_intake

__all__ = ["DETECT_JOB", "IntakeReport", "format_for_dataset", "intake", "schedule_detection"]

_REASONS_SHOWN = 20


@dataclass
class IntakeReport:
    source: str
    format: str
    received: int = 0
    accepted: int = 0
    quarantined: int = 0
    datasets: dict[str, int] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # the first quarantine reasons

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def format_for_dataset(dataset: str) -> str:
    """The reader for records posted to `dataset`: `suricata…` → EVE, `zeek.…` → Zeek JSON,
    `syslog` → syslog, `cef` → CEF, anything else → generic JSON objects."""
    family = dataset.split(".", 1)[0]
    return {"suricata": "eve", "zeek": "zeek", "syslog": "syslog", "cef": "cef"}.get(family, "json")


def intake(
    session: Session,
    settings: Settings,
    *,
    registry: JobRegistry,
    clock: Clock,
    kind: str,
    source: str,
    lines: Sequence[tuple[int, bytes]],
    fmt: str,
    dataset: str | None = None,
    force: bool = False,
) -> IntakeReport:
    """Take `lines` from `source` (a `kind` of input). Raises `Overloaded` when the spool is
    full (nothing taken: the sender retries) unless `force` (data its sender already
    considers delivered, e.g. UDP syslog or lines a tailer has read)."""
    if fmt not in STREAMABLE:
        raise Invalid(f"format {fmt!r} cannot be streamed; use one of {', '.join(STREAMABLE)}")
    if dataset is not None:
        check_name(dataset)
    box = spool(settings)
    client = redis_streams.connect(settings) if settings.redis_url else None
    if client is not None:  # scale-out mode: the streams take what the spool would
        if not force:
            redis_streams.check_room(client, settings, dataset)
    elif not force and box.bytes() >= box.max_bytes:
        raise Overloaded("the detection queue is full; retry shortly", retry_after=5)
    report = IntakeReport(source, fmt, received=sum(1 for _, line in lines if line.strip()))
    results = parse_lines(fmt, list(lines), source=source, dataset=dataset)
    now = clock.now()
    bad = [q for r in results for q in r.quarantined]
    if bad:
        report.quarantined = quarantine_store(settings).add(fmt, bad, now=now)
        report.reasons = [str(q) for q in bad[:_REASONS_SHOWN]]
    newest: datetime | None = None
    named = dataset or (results[0].dataset if results else fmt)
    for result in results:
        frame = result.frame
        if frame.height == 0:
            continue
        name = dataset if dataset and fmt != "json" else result.dataset
        frame = frame.with_columns(pl.lit(f"{kind}:{source}", dtype=pl.String).alias("_source"))
        if client is not None:
            redis_streams.append(client, settings, name, frame, source=f"{kind}:{source}")
        else:
            box.put(frame, name, force=True)  # parsed already: never refuse half a request
        report.accepted += frame.height
        report.datasets[name] = report.datasets.get(name, 0) + frame.height
        if "@timestamp" in frame.columns:
            stamp = frame.get_column("@timestamp").max()
            if isinstance(stamp, datetime) and (newest is None or stamp > newest):
                newest = stamp
        named = name
    note_intake(
        session,
        name=f"{kind}:{source}",
        kind=kind,
        dataset=named,
        events=report.accepted,
        quarantined=report.quarantined,
        last_event_at=newest,
        now=now,
        datasets=report.datasets,
    )
    if report.accepted and client is None:  # in Redis mode `worker detect` reads the streams
        schedule_detection(session, settings, registry=registry, clock=clock)
    return report


def schedule_detection(
    session: Session, settings: Settings, *, registry: JobRegistry, clock: Clock
) -> None:
    """Queue the detection job: at once when a full micro-batch waits, else when the oldest
    waiting batch is `detect_batch_seconds` old."""
    if DETECT_JOB not in registry:
        return
    waiting = spool(settings).entries()
    if not waiting:
        return
    rows = sum(e.rows for e in waiting)
    now = clock.now()
    due = now
    if rows < settings.detect_batch_events:  # spool times are wall-clock: use the age
        age = time.time() - waiting[0].created_ns / 1e9
        due = now + timedelta(seconds=max(0.0, settings.detect_batch_seconds - age))
    jobs.enqueue_once(session, DETECT_JOB, registry=registry, clock=clock, run_after=due)
