"""Vulnerability background jobs: the daily feed sync (then matching and re-assessment), the
expiry of accepted risks, and the daily risk snapshot the trend chart and report read."""

from __future__ import annotations

from typing import Any

from civicshield.core.actor import SYSTEM
from civicshield.jobs import JobContext, JobDefinition

__all__ = ["EXPIRE_JOB", "JOBS", "RISK_SNAPSHOT_JOB", "SYNC_JOB"]

RISK_SNAPSHOT_JOB = "vulns.risk_snapshot"
SYNC_JOB = "vulns.sync"
EXPIRE_JOB = "vulns.expire_acceptances"


def _sync(ctx: JobContext) -> dict[str, Any]:
    """Sync every feed (local copy or download, see `vulns.sync`), store, match, re-assess."""
    # Imported when the job runs: registering jobs happens at every start.
    from civicshield.vulns.matching import match_inventory
    from civicshield.vulns.service import store_report
    from civicshield.vulns.sync import sync_feeds

    settings = ctx.services["settings"]
    only = ctx.args.get("only") or None
    report = sync_feeds(settings, only=only)
    for src in report.sources:
        ctx.log.info(
            f"{src.source}: {src.status}, {src.result.kept} kept, {src.result.skipped} skipped"
        )
        for problem in src.result.problems[:20]:
            ctx.log.warning(f"skipped: {problem}")
    summaries, changed = store_report(ctx.session, report, clock=ctx.clock)
    for s in summaries:
        ctx.log.info(f"stored {s.source}: {s.created} new, {s.updated} updated")
    match = match_inventory(ctx.session, actor=SYSTEM, clock=ctx.clock)
    ctx.log.info(
        f"matched {match.assets} assets: {match.created} new findings, "
        f"{match.reopened} re-opened, {match.fixed} fixed; {changed} changed decision"
    )
    return {
        "sources": [s.to_dict() for s in summaries],
        "match": match.model_dump(),
        "decisions_changed": changed,
    }


def _expire(ctx: JobContext) -> dict[str, Any]:
    from civicshield.vulns.findings import expire_acceptances

    count = expire_acceptances(ctx.session, clock=ctx.clock)
    ctx.log.info(f"{count} accepted risk(s) expired and re-opened")
    return {"expired": count}


def _snapshot(ctx: JobContext) -> dict[str, Any]:
    from civicshield.vulns.risk import take_snapshot

    settings = ctx.services.get("settings")
    # "Today" is the city's day, not UTC's: a snapshot at 20:00 in Tijuana is that day's.
    tz = getattr(settings, "default_timezone", "UTC")
    summary = take_snapshot(ctx.session, clock=ctx.clock, tz=tz)
    ctx.log.info(
        f"risk snapshot for {summary.day.isoformat()}: city {summary.city.score} "
        f"({summary.city.band.value}), {len(summary.sectors)} sectors, {len(summary.zones)} zones"
    )
    return {
        "day": summary.day.isoformat(),
        "city": summary.city.score,
        "band": summary.city.band.value,
        "sectors": {s.key: s.score for s in summary.sectors},
        "zones": len(summary.zones),
    }


JOBS = [
    JobDefinition(
        name=SYNC_JOB,
        run=_sync,
        max_attempts=3,
        backoff_seconds=600,
        description="Sync KEV, EPSS, CVE JSON 5 and NVD; store; match the inventory; re-assess.",
        every_seconds=86400,
        first_run_after_seconds=3600,  # not in the same minute as a fresh install's demo load
    ),
    JobDefinition(
        name=EXPIRE_JOB,
        run=_expire,
        description="Re-open accepted risks whose acceptance has expired.",
        every_seconds=3600,
    ),
    JobDefinition(
        name=RISK_SNAPSHOT_JOB,
        run=_snapshot,
        max_attempts=3,
        description="Store today's risk scores per sector, zone and city (trend chart, report).",
        every_seconds=86400,
    ),
]
