"""Background jobs kept in the database: queue, schedules, retries with back-off, stored logs."""

from civicshield.jobs.registry import JobContext, JobDefinition, JobLogger, JobRegistry
from civicshield.jobs.schemas import JobLogRead, JobPage, JobRead, JobStatus, ScheduleRead
from civicshield.jobs.service import (
    cancel_job,
    count_by_status,
    enqueue,
    enqueue_due,
    enqueue_once,
    get_job,
    job_log,
    list_jobs,
    list_schedules,
    prune_finished,
    retry_job,
    run_next,
    sync_schedules,
)

__all__ = [
    "JobContext",
    "JobDefinition",
    "JobLogRead",
    "JobLogger",
    "JobPage",
    "JobRead",
    "JobRegistry",
    "JobStatus",
    "ScheduleRead",
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
