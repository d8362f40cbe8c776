"""`rules.catalog`: parse and compile every rule of the default roots and save the compiled
rule cache the rule catalogue reads (`civicshield.detect.catalog.build_catalog`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicshield import audit, jobs
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.settings import Settings
from civicshield.jobs import JobContext, JobDefinition, JobRead, JobRegistry, JobStatus

__all__ = ["CATALOG_JOB", "JOBS", "active_catalog_job", "queue_catalog_job"]

CATALOG_JOB = "rules.catalog"


def _build(ctx: JobContext) -> dict[str, Any]:
    from civicshield.detect.catalog import build_catalog

    settings: Settings = ctx.services["settings"]
    catalog = build_catalog(settings)
    for problem in catalog.problems[:20]:  # the first few; the count is in the result
        ctx.log.warning(f"rule not loaded: {problem}")
    if not catalog.cached:
        ctx.log.warning("the compiled rule cache could not be written; pages will not see it")
    ctx.log.info(
        f"{len(catalog.rules)} rules, {catalog.runnable} runnable, "
        f"{len(catalog.problems)} files not loaded"
    )
    return {
        "rules": len(catalog.rules),
        "runnable": catalog.runnable,
        "problems": len(catalog.problems),
        "cached": catalog.cached,
        "key": catalog.key,
    }


def active_catalog_job(session: Session) -> JobRead | None:
    """The queued or running `rules.catalog` job, if there is one."""
    for status in (JobStatus.RUNNING, JobStatus.QUEUED):
        found = jobs.list_jobs(session, status=status, name=CATALOG_JOB, limit=1, offset=0)
        if found.items:
            return found.items[0]
    return None


def queue_catalog_job(
    session: Session, *, registry: JobRegistry, clock: Clock, actor: Actor
) -> tuple[JobRead, bool]:
    """Queue a catalogue rebuild, or return the one already queued or running (a second
    would do the same work). The bool is True when a job was queued; that is audited."""
    active = active_catalog_job(session)
    if active is not None:
        return active, False
    job = jobs.enqueue(
        session, CATALOG_JOB, registry=registry, clock=clock, requested_by=actor.label
    )
    audit.record(
        session,
        actor=actor,
        action="job.enqueue",
        entity_type="job",
        entity_id=job.id,
        clock=clock,
        summary=f"queued job {job.id} ({job.name})",
        changes={"args": []},
    )
    return job, True


JOBS = [
    JobDefinition(
        name=CATALOG_JOB,
        run=_build,
        max_attempts=1,
        description="Parse and compile the detection rules for the rule catalogue.",
    ),
]
