"""Queue, claim, run and record background jobs in the database (no broker needed).

A job is claimed with a conditional UPDATE (portable: only one worker's UPDATE matches), runs
in its own unit of work, and is retried with exponential back-off until `max_attempts`. A
worker that dies leaves a lease that expires, after which another worker takes the job again.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import Conflict, NotFound
from civicshield.jobs.models import Job, JobLogLine, JobSchedule
from civicshield.jobs.registry import JobContext, JobRegistry
from civicshield.jobs.schemas import JobLogRead, JobPage, JobRead, JobStatus, ScheduleRead

__all__ = [
    "cancel_job",
    "count_by_status",
    "enqueue",
    "enqueue_due",
    "enqueue_once",
    "get_job",
    "job_log",
    "list_jobs",
    "list_schedules",
    "prune_finished",
    "retry_job",
    "run_next",
    "sync_schedules",
]

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
UnitOfWork = Callable[[], AbstractContextManager[Session]]


def enqueue(
    session: Session,
    name: str,
    *,
    registry: JobRegistry,
    clock: Clock,
    args: dict[str, Any] | None = None,
    requested_by: str = "system",
    run_after: datetime | None = None,
    schedule_id: int | None = None,
) -> JobRead:
    definition = registry.get(name)
    now = clock.now()
    job = Job(
        name=name,
        args=args or {},
        status=JobStatus.QUEUED.value,
        attempts=0,
        max_attempts=definition.max_attempts,
        run_after=run_after or now,
        created_at=now,
        requested_by=requested_by,
        schedule_id=schedule_id,
    )
    session.add(job)
    session.flush()
    return JobRead.model_validate(job)


def enqueue_once(
    session: Session,
    name: str,
    *,
    registry: JobRegistry,
    clock: Clock,
    run_after: datetime | None = None,
    requested_by: str = "system",
) -> JobRead:
    """Queue `name` unless a queued run exists; that one is brought forward to `run_after`
    when it was due later. For work that drains a queue: one waiting run is enough."""
    waiting = session.scalars(
        select(Job)
        .where(Job.name == name, Job.status == JobStatus.QUEUED.value)
        .order_by(Job.run_after)
        .limit(1)
    ).one_or_none()
    due = run_after or clock.now()
    if waiting is None:
        return enqueue(
            session, name, registry=registry, clock=clock, run_after=due, requested_by=requested_by
        )
    if as_utc(waiting.run_after) > due:
        waiting.run_after = due
        session.flush()
    return JobRead.model_validate(waiting)


def prune_finished(session: Session, *, older_than: datetime) -> int:
    """Delete finished jobs (succeeded, failed, cancelled) that ended before `older_than`,
    with their log lines. Returns how many."""
    ids = list(
        session.scalars(
            select(Job.id).where(
                Job.status.in_(
                    [JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value]
                ),
                Job.finished_at < older_than,
            )
        )
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(JobLogLine).where(JobLogLine.job_id.in_(chunk)))
        session.execute(delete(Job).where(Job.id.in_(chunk)))
    session.flush()
    return len(ids)


def get_job(session: Session, job_id: int) -> JobRead:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return JobRead.model_validate(job)


def job_log(session: Session, job_id: int) -> list[JobLogRead]:
    get_job(session, job_id)
    rows = session.execute(
        select(JobLogLine).where(JobLogLine.job_id == job_id).order_by(JobLogLine.id)
    ).scalars()
    return [JobLogRead.model_validate(r) for r in rows]


def list_jobs(
    session: Session,
    *,
    status: JobStatus | None = None,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> JobPage:
    query = select(Job)
    if status is not None:
        query = query.where(Job.status == status.value)
    if name:
        query = query.where(Job.name == name)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(Job.id.desc()).limit(limit).offset(offset)).scalars()
    return JobPage(
        items=[JobRead.model_validate(j) for j in rows], total=total, limit=limit, offset=offset
    )


def count_by_status(session: Session) -> dict[JobStatus, int]:
    """How many jobs are in each status, every status present (one GROUP BY query)."""
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
    counts = {JobStatus(status): int(n) for status, n in rows}
    return {status: counts.get(status, 0) for status in JobStatus}


def cancel_job(session: Session, job_id: int, *, clock: Clock) -> JobRead:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    if job.status != JobStatus.QUEUED.value:
        raise Conflict(f"job {job_id} is {job.status}; only queued jobs can be cancelled")
    job.status, job.finished_at = JobStatus.CANCELLED.value, clock.now()
    session.flush()
    return JobRead.model_validate(job)


def retry_job(session: Session, job_id: int, *, clock: Clock) -> JobRead:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    if job.status not in (JobStatus.FAILED.value, JobStatus.CANCELLED.value):
        raise Conflict(
            f"job {job_id} is {job.status}; only failed or cancelled jobs can be retried"
        )
    job.status, job.run_after, job.error = JobStatus.QUEUED.value, clock.now(), None
    job.max_attempts = job.attempts + max(1, job.max_attempts - job.attempts)
    session.flush()
    return JobRead.model_validate(job)


def sync_schedules(session: Session, *, registry: JobRegistry, clock: Clock) -> int:
    """Create a schedule row for each definition with `every_seconds` (kept if present)."""
    created = 0
    for definition in registry.all():
        if definition.every_seconds is None:
            continue
        row = session.execute(
            select(JobSchedule).where(JobSchedule.name == definition.name)
        ).scalar_one_or_none()
        if row is None:
            # Workers starting together race to create the same schedule: the loser's
            # insert does nothing instead of failing its whole tick on the unique name.
            postgres = session.get_bind().dialect.name == "postgresql"
            insert = postgresql_insert if postgres else sqlite_insert
            statement = insert(JobSchedule).values(
                name=definition.name,
                job_name=definition.name,
                args={},
                interval_seconds=definition.every_seconds,
                next_run_at=clock.now() + timedelta(seconds=definition.first_run_after_seconds),
                enabled=True,
            )
            result = session.execute(statement.on_conflict_do_nothing(index_elements=["name"]))
            created += int(result.rowcount)  # type: ignore[attr-defined]
    session.flush()
    return created


def list_schedules(session: Session) -> list[ScheduleRead]:
    rows = session.execute(select(JobSchedule).order_by(JobSchedule.name)).scalars()
    return [ScheduleRead.model_validate(r) for r in rows]


def enqueue_due(session: Session, *, registry: JobRegistry, clock: Clock) -> int:
    """Queue one job for each enabled schedule that is due; move its next run forward."""
    now = clock.now()
    due = (
        session.execute(
            select(JobSchedule).where(JobSchedule.enabled.is_(True), JobSchedule.next_run_at <= now)
        )
        .scalars()
        .all()
    )
    queued = 0
    for schedule in due:
        step = timedelta(seconds=schedule.interval_seconds)
        # Claim the slot with a conditional update so two workers never queue it twice.
        moved = session.execute(
            update(JobSchedule)
            .where(JobSchedule.id == schedule.id, JobSchedule.next_run_at == schedule.next_run_at)
            .values(next_run_at=max(schedule.next_run_at + step, now + step / 2))
        )
        if moved.rowcount == 1 and schedule.job_name in registry:  # type: ignore[attr-defined]
            enqueue(
                session,
                schedule.job_name,
                registry=registry,
                clock=clock,
                args=schedule.args,
                requested_by=f"schedule:{schedule.name}",
                schedule_id=schedule.id,
            )
            queued += 1
    session.flush()
    return queued


class _StoredLog:
    def __init__(self, lines: list[tuple[str, str]]) -> None:
        self.lines = lines

    def info(self, message: str) -> None:
        self.lines.append(("INFO", message))

    def warning(self, message: str) -> None:
        self.lines.append(("WARNING", message))

    def error(self, message: str) -> None:
        self.lines.append(("ERROR", message))


def _claim(session: Session, *, worker: str, clock: Clock) -> int | None:
    now = clock.now()
    runnable = or_(
        (Job.status == JobStatus.QUEUED.value) & (Job.run_after <= now),
        (Job.status == JobStatus.RUNNING.value) & (Job.lease_until < now),
    )
    candidates = (
        session.execute(select(Job.id).where(runnable).order_by(Job.run_after, Job.id).limit(5))
        .scalars()
        .all()
    )
    for job_id in candidates:
        claimed = session.execute(
            update(Job)
            .where(Job.id == job_id, runnable)
            .values(
                status=JobStatus.RUNNING.value,
                worker=worker,
                started_at=now,
                lease_until=now + LEASE,
                attempts=Job.attempts + 1,
            )
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return job_id
    return None


def run_next(
    unit_of_work: UnitOfWork,
    *,
    registry: JobRegistry,
    clock: Clock,
    worker: str,
    services: dict[str, Any] | None = None,
) -> JobRead | None:
    """Claim and run one runnable job; return it as finished, or None when the queue is idle."""
    with unit_of_work() as session:
        job_id = _claim(session, worker=worker, clock=clock)
    if job_id is None:
        return None
    with unit_of_work() as session:
        job = session.get(Job, job_id)
        assert job is not None
        name, args, attempts, max_attempts = (
            job.name,
            dict(job.args),
            job.attempts,
            job.max_attempts,
        )
    lines: list[tuple[str, str]] = []
    result: dict[str, Any] | None = None
    error: str | None = None
    try:
        definition = registry.get(name)
        with unit_of_work() as session:
            result = definition.run(
                JobContext(
                    session=session,
                    args=args,
                    log=_StoredLog(lines),
                    clock=clock,
                    services=services or {},
                )
            )
    except Exception as exc:  # a job's failure is recorded on the job, never lost
        error = f"{type(exc).__name__}: {exc}"
        lines.append(("ERROR", "".join(traceback.format_exception(exc)).strip()[-4000:]))
        log.warning("job %s (%s) failed: %s", job_id, name, error)
    with unit_of_work() as session:
        job = session.get(Job, job_id)
        assert job is not None
        now = clock.now()
        for level, message in lines:
            session.add(JobLogLine(job_id=job_id, at=now, level=level, message=message))
        job.lease_until, job.error = None, error
        if error is None:
            job.status, job.finished_at, job.result = JobStatus.SUCCEEDED.value, now, result
        elif attempts < max_attempts:
            backoff = registry.get(name).backoff_seconds if name in registry else 30
            job.status = JobStatus.QUEUED.value
            job.run_after = now + timedelta(seconds=backoff * 2 ** (attempts - 1))
        else:
            job.status, job.finished_at = JobStatus.FAILED.value, now
        session.flush()
        return JobRead.model_validate(job)
