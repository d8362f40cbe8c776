"""Telemetry background jobs: continuous detection over the spool, ingest health, the daily
event-store upkeep, the demo city's live stream, and pruning finished jobs (continuous detection
queues many)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from civicshield import jobs
from civicshield.jobs import JobContext, JobDefinition

__all__ = ["DEMO_STREAM_JOB", "DETECT_JOB", "HEALTH_JOB", "JOBS", "MAINTENANCE_JOB", "PRUNE_JOB"]

MAINTENANCE_JOB = "events.maintenance"
DETECT_JOB = "telemetry.detect"
HEALTH_JOB = "telemetry.health"
PRUNE_JOB = "jobs.prune"
DEMO_STREAM_JOB = "telemetry.demo_stream"
_KEEP_JOBS = timedelta(days=2)


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


def _detect(ctx: JobContext) -> dict[str, Any]:
    from civicshield.telemetry.intake import schedule_detection
    from civicshield.telemetry.stream import detect_spooled

    settings = ctx.services["settings"]
    report = detect_spooled(ctx.services["unit_of_work"], settings, clock=ctx.clock)
    if report.note:
        ctx.log.warning(f"no detection rules: {report.note}")
    ctx.log.info(
        f"{report.batches} micro-batch(es), {report.events:,} events, {report.matches:,} "
        f"matches: {report.created} new alert(s), {report.updated} updated, "
        f"{report.suppressed} suppressed; {report.remaining:,} events still waiting"
    )
    if report.remaining:  # more arrived meanwhile, or the run stopped at its bound
        schedule_detection(ctx.session, settings, registry=ctx.services["jobs"], clock=ctx.clock)
    return report.to_dict()


def _health(ctx: JobContext) -> dict[str, Any]:
    from civicshield.telemetry.sources import check_silence, prune_minutes

    settings = ctx.services["settings"]
    fallen = check_silence(
        ctx.session,
        clock=ctx.clock,
        factor=settings.source_silence_factor,
        window_seconds=settings.alert_window_seconds,
    )
    for name in fallen:
        ctx.log.warning(f"source went silent: {name}")
    return {"silent": fallen, "pruned_minutes": prune_minutes(ctx.session, now=ctx.clock.now())}


def _demo_stream(ctx: JobContext) -> dict[str, Any]:
    from civicshield.telemetry.demo_stream import stream_minute

    return stream_minute(
        ctx.session, ctx.services["settings"], registry=ctx.services["jobs"], clock=ctx.clock
    )


def _prune(ctx: JobContext) -> dict[str, Any]:
    removed = jobs.prune_finished(ctx.session, older_than=ctx.clock.now() - _KEEP_JOBS)
    ctx.log.info(f"removed {removed} finished job(s) older than two days")
    return {"removed": removed}


JOBS = [
    JobDefinition(
        name=MAINTENANCE_JOB,
        run=_maintain,
        description="Compact the event store and apply its retention and size budget.",
        every_seconds=86400,
        first_run_after_seconds=1800,
    ),
    JobDefinition(
        name=DETECT_JOB,
        run=_detect,
        description="Run the detection rules over spooled events and raise alerts.",
        max_attempts=10,
        backoff_seconds=5,
    ),
    JobDefinition(
        name=HEALTH_JOB,
        run=_health,
        description="Raise an alert for each ingest source that fell silent.",
        every_seconds=60,
    ),
    JobDefinition(
        name=DEMO_STREAM_JOB,
        run=_demo_stream,
        description="Stream a minute of the demo city's telemetry (only when the demo is loaded).",
        every_seconds=60,
        max_attempts=1,
    ),
    JobDefinition(
        name=PRUNE_JOB,
        run=_prune,
        description="Delete finished jobs older than two days.",
        every_seconds=86400,
        first_run_after_seconds=3600,
    ),
]
