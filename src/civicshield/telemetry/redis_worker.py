"""`civicshield worker detect`: the consumer side of the Redis Streams scale-out mode.

Any number of workers, on any machines, read the dataset streams through one consumer group
(`CIVICSHIELD_STREAM_GROUP`). One tick: first reclaim entries another worker left pending for
`stream_claim_idle_seconds` (`XAUTOCLAIM`: a killed worker's), else read new ones
(`XREADGROUP … >`). For each batch of entries: decode, evaluate (no database), then in one
transaction write the alerts with batch id `<stream>/<entry id>` (a replay replaces its own
alert batch, never adds), commit, store the events under a file name made from the entry id
(a replay overwrites the same file), and only then `XACK` + `XDEL`. An entry delivered more than
`stream_max_deliveries` times is tried once more on its own; if it still fails for a reason of
its own (not a database, Redis or disk outage) it goes to the quarantine store and is
acknowledged. One delivered more than twice that (it keeps killing workers) is quarantined
without another try.

Alert writes take a PostgreSQL advisory lock for their transaction, one writer at a time.
`alerts.record_matches` also locks each alert's row while it re-sums the alert's batches, so
it is safe without this lock; the lock keeps the workers' alert writes in one queue.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import redis
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from civicshield.core import Settings
from civicshield.core.clock import Clock
from civicshield.detect.live import LiveRules, live_rules
from civicshield.telemetry.paths import event_store
from civicshield.telemetry.redis_streams import (
    WAITING,
    connect,
    decode_entry,
    read_entries,
    streams,
    text_of,
)
from civicshield.telemetry.stream import ENTRY, StreamReport, find_matches, record_found
from civicshield.telemetry.stream_store import clear_staging, quarantine_entry, store_entry

__all__ = ["Delivery", "StreamWorker", "WorkerReport"]

log = logging.getLogger(__name__)
UnitOfWork = Callable[[], AbstractContextManager[Session]]
_ALERT_LOCK = 0x63697669635F7331  # pg_advisory_xact_lock key for alert writes ("civic_s1")
_RULES_REFRESH = 30.0  # seconds between looks for a changed rule set
# Acknowledge, delete and uncount in one step, only if this call acknowledged it (a slow
# worker and the one that reclaimed its entry may both finish; the count drops once).
_ACK = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[2], KEYS[1], -tonumber(ARGV[3]))
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Delivery:
    stream: str
    id: str
    fields: dict[bytes, bytes]
    deliveries: int = 1

    @property
    def key(self) -> str:
        return f"{self.stream}/{self.id}"

    @property
    def events(self) -> int:
        try:
            return int(self.fields.get(b"events", b"0"))
        except ValueError:
            return 0


@dataclass
class WorkerReport:
    entries: int = 0
    events: int = 0
    claimed: int = 0
    created: int = 0
    updated: int = 0
    quarantined: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: WorkerReport) -> None:
        for name in ("entries", "events", "claimed", "created", "updated"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.quarantined += other.quarantined
        self.failed += other.failed
        self.errors = (self.errors + other.errors)[-20:]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class StreamWorker:
    def __init__(
        self,
        unit_of_work: UnitOfWork,
        settings: Settings,
        *,
        clock: Clock,
        name: str | None = None,
        block_ms: int = 2000,
        count: int = 2,
        client: redis.Redis | None = None,
        rules: LiveRules | None = None,
    ) -> None:
        self.unit_of_work, self.settings, self.clock = unit_of_work, settings, clock
        self.client = client or connect(settings)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.block_ms, self.count = block_ms, count
        self.stop_event = threading.Event()
        self.store = event_store(settings)
        self._fixed_rules = rules
        self._rules: LiveRules | None = rules
        self._rules_at = 0.0
        self._groups: set[str] = set()
        self._ack = self.client.register_script(_ACK)
        clear_staging(settings)

    # --- the loop -------------------------------------------------------------------------

    def run_forever(self, on_tick: Callable[[WorkerReport], None] | None = None) -> None:
        """Tick until `stop_event` is set; the entry in hand is finished first."""
        while not self.stop_event.is_set():
            try:
                report = self.tick()
            except (redis.RedisError, OSError) as exc:  # Redis away: back off, keep the rest
                log.warning("worker %s: Redis unavailable: %s", self.name, exc)
                self.stop_event.wait(min(5.0, self.block_ms / 1000 + 1))
                continue
            if on_tick is not None:
                on_tick(report)

    def tick(self, *, block_ms: int | None = None) -> WorkerReport:
        """Reclaim stale entries, else read new ones (blocking up to `block_ms`); process them."""
        names = self._streams()
        if not names:
            self.stop_event.wait((self.block_ms if block_ms is None else block_ms) / 1000)
            return WorkerReport()
        claimed = self._claim(names)
        if claimed:
            report = self.process(claimed)
            report.claimed = len(claimed)
            return report
        wait = self.block_ms if block_ms is None else block_ms
        reply = self.client.xreadgroup(
            self.settings.stream_group,
            self.name,
            dict.fromkeys(names, ">"),
            count=self.count,
            block=wait or None,
        )
        fresh = [Delivery(*entry) for entry in read_entries(reply)]
        return self.process(fresh)

    def _streams(self) -> list[str]:
        names = streams(self.client)
        for name in names:
            if name in self._groups:
                continue
            try:  # from id 0: nothing appended before the first worker started is skipped
                self.client.xgroup_create(name, self.settings.stream_group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._groups.add(name)
        return names

    def _claim(self, names: list[str]) -> list[Delivery]:
        idle = int(self.settings.stream_claim_idle_seconds * 1000)
        found: list[Delivery] = []
        for name in names:
            reply = self.client.xautoclaim(
                name, self.settings.stream_group, self.name, idle, "0-0", count=self.count
            )
            messages, gone = reply[1], reply[2] if len(reply) > 2 else []
            if gone:
                log.error("stream %s: %d pending entries were trimmed unread", name, len(gone))
            for ident, fields in messages:
                if not fields:
                    continue
                pending = self.client.xpending_range(
                    name, self.settings.stream_group, ident, ident, 1
                )
                count = int(pending[0]["times_delivered"]) if pending else 1
                found.append(Delivery(name, text_of(ident), fields, count))
        return found

    # --- one batch ------------------------------------------------------------------------

    def process(self, batch: list[Delivery]) -> WorkerReport:
        """Detect, commit, store and acknowledge `batch`; what fails stays pending."""
        report = WorkerReport()
        frames: dict[str, list[tuple[Delivery, pl.DataFrame]]] = {}
        for item in batch:
            if (
                item.deliveries > 2 * self.settings.stream_max_deliveries
            ):  # it keeps killing workers: no further try
                self._quarantine(report, item, "workers stopped while processing it")
                continue
            try:
                dataset, frame = decode_entry(item.fields)
            except Exception as exc:  # left pending: redelivered, then quarantined
                self._failed(report, item, exc)
                continue
            frames.setdefault(dataset, []).append((item, frame))
        for dataset, items in frames.items():
            try:
                self._detect(dataset, items, report)
            except Exception as exc:  # one bad entry must not hold the rest
                if len(items) == 1:
                    self._failed(report, items[0][0], exc)
                    continue
                for one in items:  # find the culprit: each entry on its own
                    try:
                        self._detect(dataset, [one], report)
                    except Exception as inner:
                        self._failed(report, one[0], inner)
        return report

    def _detect(
        self, dataset: str, items: list[tuple[Delivery, pl.DataFrame]], report: WorkerReport
    ) -> None:
        parts = [
            frame.with_columns(pl.lit(item.key, dtype=pl.String).alias(ENTRY))
            for item, frame in items
        ]
        frame = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")
        live = self._live()
        found = find_matches(self.settings, live, dataset, frame)
        done = StreamReport()
        with self.unit_of_work() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ALERT_LOCK})
            record_found(session, self.settings, self.clock, live, frame, found, done)
        for item, part in items:  # committed: now the store (idempotent), then acknowledge
            store_entry(self.store, self.settings, item.stream, item.id, dataset, part)
            self._acknowledge(item)
            report.entries += 1
            report.events += part.height
        report.created += done.created
        report.updated += done.updated

    def _acknowledge(self, item: Delivery) -> None:
        self._ack(
            keys=[item.stream, WAITING],
            args=[self.settings.stream_group, item.id, item.events],
        )

    def _failed(self, report: WorkerReport, item: Delivery, exc: Exception) -> None:
        """Leave `item` pending (redelivered later), or quarantine it once it has had its
        deliveries and still fails for a reason of its own, not an outage."""
        message = f"{type(exc).__name__}: {exc}"
        if item.deliveries > self.settings.stream_max_deliveries and not _outage(exc):
            self._quarantine(report, item, message)
            return
        log.warning("worker %s: %s left pending: %s", self.name, item.key, message)
        report.failed += 1
        report.errors.append(f"{item.key} (delivery {item.deliveries}): {message}"[:500])

    def _quarantine(self, report: WorkerReport, item: Delivery, error: str) -> None:
        reason = (
            f"delivered {item.deliveries} times without success "
            f"(limit {self.settings.stream_max_deliveries}); last error: {error}"
        )
        quarantine_entry(self.settings, item.stream, item.id, item.fields, reason[:1000])
        self._acknowledge(item)
        log.error("worker %s: %s quarantined: %s", self.name, item.key, reason)
        report.quarantined += 1

    def _live(self) -> LiveRules:
        if self._fixed_rules is not None:
            return self._fixed_rules
        now = time.monotonic()
        if self._rules is None or now - self._rules_at > _RULES_REFRESH:
            self._rules, self._rules_at = live_rules(self.settings), now
        return self._rules


def _outage(exc: Exception) -> bool:
    """An error of the database, Redis or the disk rather than of the entry: never a reason
    to quarantine data."""
    return isinstance(exc, OperationalError | InterfaceError | redis.RedisError | OSError)
