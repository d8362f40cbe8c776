"""`/api/v1/events`: the event store (events:read to hunt and list, events:manage to replay).

Store and quarantine live under the data dir (`events/`, `quarantine/`); see
docs/telemetry-readers.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel, Field

from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, RuntimeDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.detect.eventstore import EventStore, hunt, parse_since
from civicshield.detect.quarantine import QuarantineStore
from civicshield.runtime import Runtime

__all__ = ["router"]

router = resource_router("/events", "events")
READ = [Depends(require(Permission.EVENTS_READ))]

MAX_ROWS = 10_000


def event_store(runtime: Runtime) -> EventStore:
    return EventStore(runtime.settings.data_dir / "events")


def quarantine_store(runtime: Runtime) -> QuarantineStore:
    return QuarantineStore(runtime.settings.data_dir / "quarantine")


class HuntRequest(BaseModel):
    sql: str = Field(min_length=1, max_length=20_000, description="Polars SQL over `events`.")
    since: str | None = Field(default=None, description="30d, 12h, 45m or an ISO date/time.")
    until: str | None = Field(default=None, description="Same forms as `since`.")
    datasets: list[str] = Field(default_factory=list, description="Only these datasets.")
    limit: int = Field(default=1000, ge=1, le=MAX_ROWS)


class HuntResult(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="True when more rows matched than `limit`.")


@router.post("/hunt", dependencies=READ, responses=problems(), summary="Hunt with SQL")
def hunt_events(body: HuntRequest, runtime: RuntimeDep) -> HuntResult:
    """Runs the query over the stored events in the range (partitions outside it are not
    read). 422 with Polars' reason when the query is refused."""
    now = datetime.now(UTC)
    result = hunt(
        event_store(runtime),
        body.sql,
        since=parse_since(body.since, now=now) if body.since else None,
        until=parse_since(body.until, now=now) if body.until else None,
        datasets=body.datasets or None,
        limit=body.limit + 1,
    )
    truncated = result.height > body.limit
    rows = result.head(body.limit).to_dicts()
    return HuntResult(columns=result.columns, rows=rows, truncated=truncated)


class PartitionRead(BaseModel):
    dataset: str
    day: date
    files: int
    bytes: int


@router.get("/partitions", dependencies=READ, summary="What the event store holds")
def partitions(
    runtime: RuntimeDep,
    pagination: PaginationDep,
    dataset: Annotated[list[str] | None, Query(description="Only these datasets.")] = None,
) -> Page[PartitionRead]:
    """One row per dataset and day, newest first, with file count and size."""
    parts = event_store(runtime).partitions(datasets=dataset)
    items = [
        PartitionRead(dataset=p.dataset, day=p.day, files=p.files, bytes=p.bytes)
        for p in sorted(parts, key=lambda p: (p.day, p.dataset), reverse=True)
    ]
    return pagination.slice(items)


class QuarantineRead(BaseModel):
    format: str
    source: str
    position: str
    reason: str
    raw: str
    at: str


@router.get("/quarantine", dependencies=READ, summary="Records no reader could read")
def quarantine(
    runtime: RuntimeDep,
    pagination: PaginationDep,
    fmt: Annotated[str | None, Query(alias="format", description="Only this reader.")] = None,
) -> Page[QuarantineRead]:
    """Each with the input's name, the position in it, the reason and the record's text."""
    items = [QuarantineRead(**e.to_dict()) for e in quarantine_store(runtime).entries(fmt=fmt)]
    return pagination.slice(items)
