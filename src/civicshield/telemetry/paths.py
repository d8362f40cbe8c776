"""Where telemetry lives under the data directory: the event store, the quarantine and the
detection spool."""

from __future__ import annotations

from civicshield.core import Settings
from civicshield.detect.eventstore import EventStore
from civicshield.detect.quarantine import QuarantineStore
from civicshield.telemetry.spool import Spool

__all__ = ["event_store", "quarantine_store", "spool"]


def event_store(settings: Settings) -> EventStore:
    return EventStore(settings.data_dir / "events")


def quarantine_store(settings: Settings) -> QuarantineStore:
    return QuarantineStore(settings.data_dir / "quarantine")


def spool(settings: Settings) -> Spool:
    return Spool(settings.data_dir / "spool", max_bytes=settings.ingest_spool_max_bytes)
