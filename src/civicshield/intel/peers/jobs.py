"""The `intel.pull` job: every minute it pulls the `pull` subscriptions whose last pull is
older than `intel_pull_minutes` (or one subscription, given `subscription_id`)."""

from __future__ import annotations

from typing import Any

from civicshield.core.actor import SYSTEM
from civicshield.jobs import JobContext, JobDefinition

__all__ = ["JOBS", "PULL_JOB"]

PULL_JOB = "intel.pull"


def _pull(ctx: JobContext) -> dict[str, Any]:
    from civicshield.intel.peers.pull import due_subscriptions, pull_subscription

    settings = ctx.services["settings"]
    wanted = ctx.args.get("subscription_id")
    ids = (
        [int(wanted)]
        if wanted is not None
        else due_subscriptions(ctx.session, settings=settings, now=ctx.clock.now())
    )
    failed = 0
    for sub_id in ids:
        result = pull_subscription(
            ctx.session, sub_id, settings=settings, actor=SYSTEM, clock=ctx.clock
        )
        if result.ok:
            ctx.log.info(
                f"subscription {sub_id}: {result.pages} pages, {result.read} read, "
                f"{result.new + result.new_versions} stored, {len(result.refused)} refused"
            )
        else:
            failed += 1
            ctx.log.error(f"subscription {sub_id}: {result.error}")
    return {"pulled": len(ids), "failed": failed}


JOBS = [
    JobDefinition(
        name=PULL_JOB,
        run=_pull,
        description="Pull subscribed peer collections (incremental, every intel_pull_minutes).",
        every_seconds=60,
        max_attempts=1,  # retries are per request (back-off); the next run tries again
        first_run_after_seconds=60,
    ),
]
