"""Hunting: Polars SQL over the event store, its result beside the form, the same query as
CSV, saved hunts (own and shared) and what the store and the quarantine hold.

Running a query changes nothing, so it is a GET form: a hunt's URL can be shared and the CSV
link repeats the same parameters. Saving, changing and deleting a hunt are CSRF-checked posts;
the telemetry service decides who may change what.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
import polars as pl
from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import telemetry
from civicshield.accounts import Permission
from civicshield.core.enums import Role
from civicshield.core.errors import Conflict, Invalid
from civicshield.core.i18n import N_
from civicshield.detect.eventstore import EventStore
from civicshield.detect.ingest import REPLAYABLE, replay
from civicshield.detect.quarantine import QuarantineStore
from civicshield.telemetry import SavedHuntCreate, SavedHuntRead, SavedHuntUpdate
from civicshield.web.deps import require
from civicshield.web.forms import domain_errors, schema_errors
from civicshield.web.page import Page

__all__ = ["HUNT_FIELD_MESSAGES", "MAX_CSV_ROWS", "MAX_PAGE_ROWS", "router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.EVENTS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.EVENTS_MANAGE))]

MAX_PAGE_ROWS = 500  # a table longer than this helps nobody; the CSV has more
MAX_CSV_ROWS = 10_000  # the API's limit too
HUNT_FIELD_MESSAGES = {
    "name": N_("Enter a name of at most 100 characters."),
    "sql": N_("Enter a query of at most 20,000 characters."),
    "since": N_("Enter a duration (30d, 12h, 45m) or an ISO date, or leave it empty."),
    "datasets": N_("Choose datasets from the list."),
    "*": N_("Check this value."),
}
_NAME_TAKEN = N_("You already have a saved hunt with this name.")


@dataclass
class Query:
    """The hunt form's values as typed, and whether to run it."""

    sql: str = ""
    since: str = ""
    until: str = ""
    datasets: list[str] = field(default_factory=list)
    limit: int = 100
    run: bool = False

    def params(self, **extra: str) -> str:
        pairs = [("sql", self.sql), ("since", self.since), ("until", self.until)]
        pairs += [("dataset", d) for d in self.datasets] + [("limit", str(self.limit))]
        return urlencode([(k, v) for k, v in (*pairs, *extra.items()) if v])


def _limit(raw: str, default: int, ceiling: int) -> int:
    return max(1, min(int(raw), ceiling)) if raw.isdigit() and len(raw) < 7 else default


def _query(page: Page, ceiling: int) -> Query:
    params = page.request.query_params
    return Query(
        sql=page.query("sql")[: telemetry.MAX_SQL],
        since=page.query("since")[:64],
        until=page.query("until")[:64],
        datasets=[d for d in params.getlist("dataset") if d][:50],
        limit=_limit(page.query("limit"), 100, ceiling),
        run=bool(page.query("sql")),
    )


def _events(page: Page) -> EventStore:
    return telemetry.event_store(page.runtime.settings)


def _quarantine(page: Page) -> QuarantineStore:
    return telemetry.quarantine_store(page.runtime.settings)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:.1f} {unit}"


def _store_summary(store: EventStore) -> list[dict[str, Any]]:
    """One row per dataset: first and last day, files and size."""
    found: dict[str, dict[str, Any]] = {}
    for p in store.partitions():
        row = found.setdefault(p.dataset, {"dataset": p.dataset, "first": p.day, "last": p.day})
        row["first"], row["last"] = min(row["first"], p.day), max(row["last"], p.day)
        row["days"] = row.get("days", 0) + 1
        row["bytes"] = row.get("bytes", 0) + p.bytes
    return [{**r, "size": _size(r["bytes"])} for r in found.values()]


def cell(value: Any) -> str:
    """A result value as text (nested values as JSON)."""
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def _run(page: Page, query: Query) -> tuple[telemetry.HuntRun | None, dict[str, str]]:
    if not query.run:
        return None, {}
    try:
        run = telemetry.run_hunt(
            _events(page),
            query.sql,
            now=datetime.now(UTC),
            since=query.since,
            until=query.until,
            datasets=query.datasets,
            limit=query.limit,
        )
    except Invalid as exc:
        return None, domain_errors(page, exc, "sql")
    return run, {}


def _saved(page: Page) -> list[SavedHuntRead]:
    with page.runtime.session() as session:
        return telemetry.list_saved_hunts(session, principal=page.user, limit=200).items


def _render(
    page: Page, query: Query, *, save: dict[str, Any] | None = None, status: int = 200, **extra: Any
) -> Response:
    store = _events(page)
    run, errors = _run(page, query)
    datasets = sorted({p.dataset for p in store.partitions()})
    return page.render(
        "hunt/index.html",
        status=422 if errors else status,
        nav_key="hunt",
        query=query,
        run=run,
        rows=[[cell(v) for v in r] for r in run.frame.iter_rows()] if run else [],
        errors=errors,
        csv_url=f"/hunt.csv?{query.params()}",
        datasets=sorted({*datasets, *query.datasets}),
        summary=_store_summary(store),
        quarantined=sorted(_quarantine(page).counts().items()),
        saved=_saved(page),
        save=save or {"name": "", "description": "", "shared": False, "errors": {}},
        max_rows=MAX_PAGE_ROWS,
        me=page.user.user_id,
        is_admin=page.user.role is Role.ADMIN,
        **extra,
    )


@router.get("/hunt")
def hunt_page(page: ReadPage) -> Response:
    query = _query(page, MAX_PAGE_ROWS)
    chosen = page.query("saved")
    if chosen.isdigit() and len(chosen) < 10:
        with page.runtime.session() as session:
            hunt = telemetry.get_saved_hunt(session, int(chosen), principal=page.user)
        query = Query(hunt.sql, hunt.since, query.until, hunt.datasets, query.limit, True)
    return _render(page, query)


def _csv(frame: pl.DataFrame) -> str:
    nested = [name for name, dtype in frame.schema.items() if dtype.is_nested()]
    for name in nested:  # CSV has no lists or structs: write them as JSON text
        frame = frame.with_columns(pl.Series(name, [cell(v) for v in frame[name]], pl.String))
    return frame.write_csv()


@router.get("/hunt.csv")
def hunt_csv(page: ReadPage) -> Response:
    query = _query(page, MAX_CSV_ROWS)
    if not query.run:
        return page.redirect("/hunt")
    run, _errors = _run(page, query)
    if run is None:  # the page shows why, next to the query
        query.limit = min(query.limit, MAX_PAGE_ROWS)
        return _render(page, query)
    return Response(
        _csv(run.frame),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="civicshield-hunt.csv"'},
    )


def _save_errors(page: Page, exc: Exception) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return schema_errors(page, exc, HUNT_FIELD_MESSAGES)
    if isinstance(exc, Conflict):
        return {"name": page.gettext(_NAME_TAKEN)}
    assert isinstance(exc, Invalid)
    return domain_errors(page, exc, "name")


@router.post("/hunt/saved")
def save_hunt(page: ReadPage) -> Response:
    values = {
        "name": page.field("name"),
        "description": page.field("description"),
        "shared": page.field("shared") == "yes",
    }
    query = Query(page.field("sql"), page.field("since"), datasets=page.fields("dataset"))
    try:
        body = SavedHuntCreate(sql=query.sql, since=query.since, datasets=query.datasets, **values)
        with page.runtime.session() as session:
            saved = telemetry.create_saved_hunt(
                session, body, principal=page.user, clock=page.runtime.clock
            )
    except (ValidationError, Conflict, Invalid) as exc:
        save = {**values, "errors": _save_errors(page, exc)}
        return _render(page, query, save=save, status=422)
    return page.redirect(f"/hunt?saved={saved.id}", flash="saved")


def _edit(page: Page, hunt: SavedHuntRead, values: dict[str, Any], **extra: Any) -> Response:
    datasets = sorted({p.dataset for p in _events(page).partitions()} | set(values["datasets"]))
    may_change = hunt.owner_id == page.user.user_id or page.user.role is Role.ADMIN
    return page.render(
        "hunt/edit.html",
        nav_key="hunt",
        hunt=hunt,
        values=values,
        datasets=datasets,
        may_change=may_change,
        errors=extra.pop("errors", {}),
        **extra,
    )


@router.get("/hunt/saved/{hunt_id}")
def edit_hunt(hunt_id: int, page: ReadPage) -> Response:
    with page.runtime.session() as session:
        hunt = telemetry.get_saved_hunt(session, hunt_id, principal=page.user)
    return _edit(page, hunt, hunt.model_dump())


@router.post("/hunt/saved/{hunt_id}")
def update_hunt(hunt_id: int, page: ReadPage) -> Response:
    with page.runtime.session() as session:
        hunt = telemetry.get_saved_hunt(session, hunt_id, principal=page.user)
    values: dict[str, Any] = {
        name: page.field(name) for name in ("name", "description", "sql", "since")
    }
    values.update(datasets=page.fields("dataset"), shared=page.field("shared") == "yes")
    try:
        body = SavedHuntUpdate(**values)
        with page.runtime.session() as session:
            telemetry.update_saved_hunt(
                session, hunt_id, body, principal=page.user, clock=page.runtime.clock
            )
    except (ValidationError, Conflict, Invalid) as exc:
        return _edit(page, hunt, values, errors=_save_errors(page, exc), status=422)
    return page.redirect(f"/hunt/saved/{hunt_id}", flash="saved")


@router.post("/hunt/saved/{hunt_id}/delete")
def delete_hunt(hunt_id: int, page: ReadPage) -> Response:
    with page.runtime.session() as session:
        telemetry.delete_saved_hunt(session, hunt_id, principal=page.user, clock=page.runtime.clock)
    return page.redirect("/hunt", flash="saved")


@router.get("/hunt/quarantine")
def quarantine_page(page: ReadPage) -> Response:
    fmt = page.query("format")[:100]
    store = _quarantine(page)
    entries = list(store.entries(fmt=fmt or None))
    return page.render(
        "hunt/quarantine.html",
        nav_key="hunt",
        entries=entries[:MAX_PAGE_ROWS],
        total=len(entries),
        counts=sorted(store.counts().items()),
        chosen=fmt,
        max_rows=MAX_PAGE_ROWS,
        replayable=REPLAYABLE,
        replayed=_replayed(page),
    )


def _replayed(page: Page) -> dict[str, int] | None:
    """The outcome of a replay, passed back in the redirect's query."""
    raw = [page.query(k) for k in ("replayed", "recovered", "still_bad")]
    if not all(v.isdigit() for v in raw):
        return None
    return dict(zip(("replayed", "recovered", "still_bad"), map(int, raw), strict=True))


@router.post("/hunt/quarantine/replay")
def quarantine_replay(page: ManagePage) -> Response:
    """Read one reader's quarantined records again (after a reader fix)."""
    fmt = page.field("format")
    if fmt not in REPLAYABLE:
        return page.redirect("/hunt/quarantine")
    report = replay(fmt, _events(page), _quarantine(page))
    query = urlencode(
        {
            "format": fmt,
            "replayed": report.replayed,
            "recovered": report.recovered,
            "still_bad": report.still_bad,
        }
    )
    return page.redirect(f"/hunt/quarantine?{query}")
