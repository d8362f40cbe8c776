"""Intel jobs of the store itself: once a day, re-apply ageing with the current
`intel_decay_days`, so a changed setting (or a longer-running city) reaches every indicator
without a re-import."""

from __future__ import annotations

from typing import Any

from civicshield.jobs import JobContext, JobDefinition

__all__ = ["AGEING_JOB", "JOBS"]

AGEING_JOB = "intel.ageing"


def _age(ctx: JobContext) -> dict[str, Any]:
    from civicshield.intel.service import apply_ageing

    settings = ctx.services.get("settings")
    decay = dict(getattr(settings, "intel_decay_days", {}) or {})
    changed = apply_ageing(ctx.session, decay_days=decay)
    ctx.log.info(f"{changed} indicator expiries changed (decay days: {decay or 'defaults'})")
    return {"changed": changed}


JOBS = [
    JobDefinition(
        name=AGEING_JOB,
        run=_age,
        description="Re-apply indicator ageing (valid_until, decay per kind) every day.",
        every_seconds=86_400,
        max_attempts=3,
        backoff_seconds=300,
        first_run_after_seconds=3600,
    ),
]
