"""`/api/v1/jobs`: background jobs, their stored logs, schedules and definitions.

The jobs domain sits below the audit log, so this adapter records who queued, retried or
cancelled a job (`job.enqueue`, `job.retry`, `job.cancel`; argument names only, never values).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from sqlalchemy.orm import Session

from civicshield import audit, jobs
from civicshield.accounts import Permission, Principal
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import JobCreate, JobDefinitionRead, JobDetail, Page
from civicshield.core.errors import FieldError, Invalid
from civicshield.jobs import JobRead, JobStatus, ScheduleRead
from civicshield.runtime import Runtime

__all__ = ["router"]

router = resource_router("/jobs", "jobs")
READ = [Depends(require(Permission.JOBS_READ))]
MANAGE = [Depends(require(Permission.JOBS_MANAGE))]


_DONE = {"enqueue": "queued", "retry": "queued again", "cancel": "cancelled"}


def _audit(
    session: Session, runtime: Runtime, principal: Principal, job: JobRead, verb: str
) -> None:
    audit.record(
        session,
        actor=principal.actor,
        action=f"job.{verb}",
        entity_type="job",
        entity_id=job.id,
        clock=runtime.clock,
        summary=f"{_DONE[verb]} job {job.id} ({job.name})",
        changes={"args": sorted(job.args)} if verb == "enqueue" else None,
    )


@router.get("", dependencies=READ, summary="List jobs")
def list_jobs(
    session: SessionDep,
    pagination: PaginationDep,
    status: Annotated[JobStatus | None, Query(description="Only jobs in this state.")] = None,
    name: Annotated[str | None, Query(description="Only jobs with this name.")] = None,
) -> Page[JobRead]:
    """Newest first."""
    result = jobs.list_jobs(
        session, status=status, name=name, limit=pagination.limit, offset=pagination.offset
    )
    return pagination.page(result.items, result.total)


@router.get("/schedules", dependencies=READ, summary="List recurring job schedules")
def list_schedules(session: SessionDep, pagination: PaginationDep) -> Page[ScheduleRead]:
    return pagination.slice(jobs.list_schedules(session))


@router.get("/definitions", dependencies=READ, summary="List the jobs that can be queued")
def list_definitions(runtime: RuntimeDep, pagination: PaginationDep) -> Page[JobDefinitionRead]:
    """Registered by CivicShield and its plugins; sorted by name."""
    return pagination.slice(
        [
            JobDefinitionRead(
                name=d.name,
                description=d.description,
                max_attempts=d.max_attempts,
                backoff_seconds=d.backoff_seconds,
                every_seconds=d.every_seconds,
            )
            for d in runtime.jobs.all()
        ]
    )


@router.post(
    "", dependencies=MANAGE, status_code=202, summary="Queue a job to run in the background"
)
def create_job(
    data: JobCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> JobRead:
    """202 with `Location` of the queued job: poll it for its status and log. Not
    idempotent: each request queues one more job."""
    if data.name not in runtime.jobs:
        known = ", ".join(d.name for d in runtime.jobs.all()) or "none"
        raise Invalid(
            f"no job named {data.name!r} (known jobs: {known})",
            [FieldError(("body", "name"), "unknown job name")],
        )
    job = jobs.enqueue(
        session,
        data.name,
        registry=runtime.jobs,
        clock=runtime.clock,
        args=data.args,
        requested_by=principal.actor.label,
    )
    _audit(session, runtime, principal, job, "enqueue")
    response.headers["Location"] = str(request.url_for("get_job", job_id=job.id))
    return job


@router.get("/{job_id}", dependencies=READ, responses=problems(404), summary="Get a job")
def get_job(job_id: int, session: SessionDep) -> JobDetail:
    """The job with the log lines it stored."""
    job = jobs.get_job(session, job_id)
    return JobDetail(**job.model_dump(), log=jobs.job_log(session, job_id))


@router.post(
    "/{job_id}/retry",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Queue a failed or cancelled job again",
)
def retry_job(
    job_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> JobRead:
    job = jobs.retry_job(session, job_id, clock=runtime.clock)
    _audit(session, runtime, principal, job, "retry")
    return job


@router.post(
    "/{job_id}/cancel",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Cancel a queued job",
)
def cancel_job(
    job_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> JobRead:
    """Only queued jobs can be cancelled (409 otherwise)."""
    job = jobs.cancel_job(session, job_id, clock=runtime.clock)
    _audit(session, runtime, principal, job, "cancel")
    return job
