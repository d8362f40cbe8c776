"""`/api/v1/events`: the event store (events:read to hunt and list, events:manage to replay)
and saved hunts (events:read; a saved hunt is changed by its owner or an administrator).

Store and quarantine live under the data dir (`events/`, `quarantine/`); see
docs/telemetry-readers.md.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from civicshield import telemetry
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.detect.eventstore import EventStore
from civicshield.detect.quarantine import QuarantineStore
from civicshield.runtime import Runtime
from civicshield.telemetry import HuntRun, SavedHuntRead

__all__ = ["router"]

router = resource_router("/events", "events")
READ = [Depends(require(Permission.EVENTS_READ))]

MAX_ROWS = 10_000


def event_store(runtime: Runtime) -> EventStore:
    return telemetry.event_store(runtime.settings)


def quarantine_store(runtime: Runtime) -> QuarantineStore:
    return telemetry.quarantine_store(runtime.settings)


class HuntRequest(BaseModel):
    sql: str = Field(
        min_length=1, max_length=telemetry.MAX_SQL, description="Polars SQL over `events`."
    )
    since: str | None = Field(default=None, description="30d, 12h, 45m or an ISO date/time.")
    until: str | None = Field(default=None, description="Same forms as `since`.")
    datasets: list[str] = Field(default_factory=list, description="Only these datasets.")
    limit: int = Field(default=1000, ge=1, le=MAX_ROWS)


class HuntResult(BaseModel):
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="True when more rows matched than `limit`.")

    @classmethod
    def of(cls, run: HuntRun) -> HuntResult:
        return cls(columns=run.columns, rows=run.rows(), truncated=run.truncated)


@router.post("/hunt", dependencies=READ, responses=problems(), summary="Hunt with SQL")
def hunt_events(body: HuntRequest, runtime: RuntimeDep) -> HuntResult:
    """Runs the query over the stored events in the range (partitions outside it are not
    read). 422 with Polars' reason when the query is refused."""
    run = telemetry.run_hunt(
        event_store(runtime),
        body.sql,
        now=datetime.now(UTC),
        since=body.since,
        until=body.until,
        datasets=body.datasets,
        limit=body.limit,
    )
    return HuntResult.of(run)


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


# --- saved hunts --------------------------------------------------------------------------


@router.get("/hunts", dependencies=READ, summary="List saved hunts")
def list_hunts(
    session: SessionDep,
    principal: PrincipalDep,
    pagination: PaginationDep,
    mine: Annotated[bool, Query(description="Only my own hunts, not the shared ones.")] = False,
) -> Page[SavedHuntRead]:
    """Your own hunts and the shared ones, by name."""
    found = telemetry.list_saved_hunts(
        session,
        principal=principal,
        mine_only=mine,
        limit=pagination.limit,
        offset=pagination.offset,
    )
    return pagination.page(found.items, found.total)


@router.post(
    "/hunts",
    dependencies=READ,
    status_code=201,
    responses=problems(409),
    summary="Save a hunt",
)
def create_hunt(
    data: telemetry.SavedHuntCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> SavedHuntRead:
    """201 with `Location`; 409 when you already have a hunt of that name; 422 when `since`
    is neither a duration nor an ISO date."""
    saved = telemetry.create_saved_hunt(session, data, principal=principal, clock=runtime.clock)
    response.headers["Location"] = str(request.url_for("get_hunt", hunt_id=saved.id))
    return saved


@router.get(
    "/hunts/{hunt_id}", dependencies=READ, responses=problems(404), summary="Get a saved hunt"
)
def get_hunt(hunt_id: int, session: SessionDep, principal: PrincipalDep) -> SavedHuntRead:
    """Another user's private hunt answers 404 (administrators see every hunt)."""
    return telemetry.get_saved_hunt(session, hunt_id, principal=principal)


@router.patch(
    "/hunts/{hunt_id}",
    dependencies=READ,
    responses=problems(404, 409),
    summary="Change a saved hunt",
)
def update_hunt(
    hunt_id: int,
    data: telemetry.SavedHuntUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> SavedHuntRead:
    """Only the fields sent change. 403 on a shared hunt you do not own (unless admin)."""
    return telemetry.update_saved_hunt(
        session, hunt_id, data, principal=principal, clock=runtime.clock
    )


@router.delete(
    "/hunts/{hunt_id}",
    dependencies=READ,
    status_code=204,
    responses=problems(404),
    summary="Delete a saved hunt",
)
def delete_hunt(
    hunt_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> Response:
    """Its owner or an administrator; 403 for anyone else who can see it."""
    telemetry.delete_saved_hunt(session, hunt_id, principal=principal, clock=runtime.clock)
    return Response(status_code=204)


class RunRequest(BaseModel):
    until: str | None = Field(default=None, description="30d, 12h, 45m or an ISO date/time.")
    limit: int = Field(default=1000, ge=1, le=MAX_ROWS)


@router.post(
    "/hunts/{hunt_id}/run",
    dependencies=READ,
    responses=problems(404),
    summary="Run a saved hunt",
)
def run_hunt(
    hunt_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    body: RunRequest | None = None,
) -> HuntResult:
    """The same result as `POST /hunt`; the hunt's `since` counts back from now."""
    options = body or RunRequest()
    run = telemetry.run_saved(
        session,
        hunt_id,
        event_store(runtime),
        principal=principal,
        now=datetime.now(UTC),
        until=options.until,
        limit=options.limit,
    )
    return HuntResult.of(run)


class ReplayResult(BaseModel):
    replayed: int
    recovered: int = Field(description="Records that now read and were stored.")
    still_bad: int = Field(description="Records still in quarantine (with their new reason).")


@router.post(
    "/quarantine/replay",
    dependencies=[Depends(require(Permission.EVENTS_MANAGE))],
    responses=problems(),
    summary="Read quarantined records again",
)
def replay_quarantine(
    runtime: RuntimeDep,
    fmt: Annotated[str, Query(alias="format", description="eve, syslog, cef, json or zeek.")],
) -> ReplayResult:
    """After a reader fix: what now reads is stored, what still fails stays. Readers whose
    records need their file's header (Zeek TSV, nfdump, mapped CSV) answer 422."""
    from civicshield.detect.ingest import replay

    report = replay(fmt, event_store(runtime), quarantine_store(runtime))
    return ReplayResult(
        replayed=report.replayed, recovered=report.recovered, still_bad=report.still_bad
    )
