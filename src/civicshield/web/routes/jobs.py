"""Background jobs: the queue with a status filter, one job's stored log, retry and cancel,
the schedules, and "run now" for any registered job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import jobs
from civicshield.accounts import Permission
from civicshield.core.errors import NotFound
from civicshield.jobs import JobStatus
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, offset_param
from civicshield.web.page import Page

__all__ = ["router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.JOBS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.JOBS_MANAGE))]


@router.get("/jobs")
def job_list(page: ReadPage) -> Response:
    status_raw = page.query("status")
    status = JobStatus(status_raw) if status_raw in JobStatus._value2member_map_ else None
    offset = offset_param(page)
    with page.runtime.session() as session:
        result = jobs.list_jobs(session, status=status, limit=PAGE_SIZE, offset=offset)
        schedules = {s.job_name: s for s in jobs.list_schedules(session)}
    return page.render(
        "jobs/list.html",
        nav_key="jobs",
        jobs=result.items,
        pager=Pager.of(page, result.total, offset),
        status_filter=status,
        statuses=list(JobStatus),
        schedules=schedules,
        definitions=page.runtime.jobs.all(),
    )


@router.get("/jobs/{job_id}")
def job_detail(job_id: int, page: ReadPage) -> Response:
    with page.runtime.session() as session:
        job = jobs.get_job(session, job_id)
        lines = jobs.job_log(session, job_id)
    return page.render("jobs/detail.html", nav_key="jobs", job=job, lines=lines)


@router.post("/jobs/{job_id}/retry")
def retry(job_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        jobs.retry_job(session, job_id, clock=page.runtime.clock)
    return page.redirect(f"/jobs/{job_id}", flash="job_retried")


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        jobs.cancel_job(session, job_id, clock=page.runtime.clock)
    return page.redirect(f"/jobs/{job_id}", flash="job_cancelled")


@router.post("/jobs/run")
def run_now(page: ManagePage) -> Response:
    name = page.field("name")
    if name not in page.runtime.jobs:
        raise NotFound(f"no job named {name!r}")
    with page.runtime.session() as session:
        job = jobs.enqueue(
            session,
            name,
            registry=page.runtime.jobs,
            clock=page.runtime.clock,
            requested_by=page.actor.label,
        )
    return page.redirect(f"/jobs/{job.id}", flash="job_queued")
