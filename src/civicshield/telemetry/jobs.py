"""Telemetry background jobs: the daily event-store upkeep."""

from __future__ import annotations

from typing import Any

from civicshield.jobs import JobContext, JobDefinition

__all__ = ["JOBS", "MAINTENANCE_JOB"]

MAINTENANCE_JOB = "events.maintenance"


def _maintain(ctx: JobContext) -> dict[str, Any]:
    from civicshield.telemetry.maintenance import maintain_event_store

    settings = ctx.services["settings"]
    today = ctx.clock.now().date()
    report = maintain_event_store(settings, today=today)
    ctx.log.info(
        f"compacted {len(report.compacted)} partition(s); removed {len(report.removed)} "
        f"({report.removed_bytes:,} bytes) by retention and size budget"
    )
    return report.to_dict()


JOBS = [
    JobDefinition(
        name=MAINTENANCE_JOB,
        run=_maintain,
        description="Compact the event store and apply its retention and size budget.",
        every_seconds=86400,
        first_run_after_seconds=1800,
    ),
]
