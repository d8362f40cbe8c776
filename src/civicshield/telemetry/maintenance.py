"""Event-store upkeep with the city's settings: compaction, then retention by age and size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from civicshield.core.settings import Settings
from civicshield.detect.eventstore import Partition
from civicshield.telemetry.paths import event_store

__all__ = ["MaintenanceReport", "maintain_event_store"]


@dataclass
class MaintenanceReport:
    compacted: list[Partition]
    removed: list[Partition]

    @property
    def removed_bytes(self) -> int:
        return sum(p.bytes for p in self.removed)

    def to_dict(self) -> dict[str, object]:
        return {
            "compacted": [f"{p.dataset}/{p.day}" for p in self.compacted],
            "removed": [f"{p.dataset}/{p.day}" for p in self.removed],
            "removed_bytes": self.removed_bytes,
        }


def maintain_event_store(
    settings: Settings, *, today: date | None = None, compact: bool = True
) -> MaintenanceReport:
    """Compact partitions of several files, then drop what retention and the budget say."""
    store = event_store(settings)
    compacted = store.compact() if compact else []
    removed = store.apply_retention(
        keep_days=settings.events_retention,
        default_days=settings.events_retention_days,
        max_bytes=settings.events_max_bytes,
        today=today,
    ).removed
    return MaintenanceReport(compacted, removed)
