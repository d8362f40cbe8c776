"""Job read models and status values."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["JobLogRead", "JobPage", "JobRead", "JobStatus", "ScheduleRead"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    level: str
    message: str


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    args: dict[str, Any]
    status: JobStatus
    attempts: int
    max_attempts: int
    run_after: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str | None
    error: str | None
    result: dict[str, Any] | None
    requested_by: str


class JobPage(BaseModel):
    items: list[JobRead]
    total: int
    limit: int
    offset: int


class ScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    job_name: str
    args: dict[str, Any]
    interval_seconds: int
    next_run_at: datetime
    enabled: bool
