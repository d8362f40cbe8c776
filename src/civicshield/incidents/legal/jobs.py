"""The reminders job: every five minutes, raise the legal clocks' reminders that are due."""

from __future__ import annotations

from typing import Any

from civicshield.jobs import JobContext, JobDefinition

__all__ = ["JOBS", "REMINDERS_JOB"]

REMINDERS_JOB = "incidents.reminders"


def _remind(ctx: JobContext) -> dict[str, Any]:
    from civicshield.incidents.legal.config import LegalConfig
    from civicshield.incidents.legal.reminders import raise_reminders

    config = LegalConfig.from_settings(ctx.services["settings"])
    made = raise_reminders(
        ctx.session, config=config, clock=ctx.clock, registry=ctx.services["jobs"]
    )
    for r in made:
        ctx.log.info(f"case {r.case_id}: {r.obligation_id} reminder {r.level} ({r.reason})")
    return {"raised": len(made), "emailed": sum(1 for r in made if r.emailed_to)}


JOBS = [
    JobDefinition(
        name=REMINDERS_JOB,
        run=_remind,
        description="Raise the legal clocks' reminders (in-app, e-mail) before each deadline.",
        every_seconds=300,
        max_attempts=3,
        backoff_seconds=60,
    ),
]
