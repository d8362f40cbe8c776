"""Saved hunts: create, change, delete, list, get and run them.

A hunt is private to its owner unless `shared`; a shared one is visible to everyone who may
hunt. Only the owner or an administrator changes or deletes one. A private hunt of someone
else does not exist for the caller (NotFound), except for administrators.

Running goes through `detect.eventstore.hunt`: the time range and datasets prune partitions,
and `since` is parsed at run time, so "7d" always means the last seven days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.accounts import Principal
from civicshield.core.clock import Clock
from civicshield.core.enums import Role
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound, PermissionDenied
from civicshield.detect.eventstore import EventStore, hunt, parse_since
from civicshield.telemetry.models import SavedHunt
from civicshield.telemetry.schemas import (
    SavedHuntCreate,
    SavedHuntPage,
    SavedHuntRead,
    SavedHuntUpdate,
)

__all__ = [
    "HuntRun",
    "create_saved_hunt",
    "delete_saved_hunt",
    "get_saved_hunt",
    "list_saved_hunts",
    "run_hunt",
    "run_saved",
    "update_saved_hunt",
]

_FIELDS = ("name", "description", "sql", "since", "datasets", "shared")


@dataclass(frozen=True)
class HuntRun:
    """A query's rows (at most the limit asked) and whether more matched."""

    frame: pl.DataFrame
    truncated: bool

    @property
    def columns(self) -> list[str]:
        return self.frame.columns

    def rows(self) -> list[dict[str, Any]]:
        return self.frame.to_dicts()


def _time(text: str | None, name: str, now: datetime) -> datetime | None:
    if not text:
        return None
    try:
        return parse_since(text, now=now)
    except Invalid as exc:
        raise Invalid(exc.detail, [FieldError(("body", name), exc.detail)]) from None


def run_hunt(
    store: EventStore,
    sql: str,
    *,
    now: datetime,
    since: str | None = None,
    until: str | None = None,
    datasets: Sequence[str] | None = None,
    limit: int = 1000,
) -> HuntRun:
    """Run `sql` over `events`; one row past `limit` is read to tell whether more matched.
    A query Polars refuses raises Invalid with Polars' reason."""
    result = hunt(
        store,
        sql,
        since=_time(since, "since", now),
        until=_time(until, "until", now),
        datasets=list(datasets) if datasets else None,
        limit=limit + 1,
    )
    return HuntRun(frame=result.head(limit), truncated=result.height > limit)


def _visible(principal: Principal) -> Any:
    return or_(SavedHunt.owner_id == principal.user_id, SavedHunt.shared.is_(True))


def _load(session: Session, hunt_id: int, principal: Principal) -> SavedHunt:
    row = session.get(SavedHunt, hunt_id)
    if row is None or not (
        row.owner_id == principal.user_id or row.shared or principal.role is Role.ADMIN
    ):
        raise NotFound(f"saved hunt {hunt_id} does not exist")
    return row


def _changeable(session: Session, hunt_id: int, principal: Principal) -> SavedHunt:
    row = _load(session, hunt_id, principal)
    if row.owner_id != principal.user_id and principal.role is not Role.ADMIN:
        raise PermissionDenied(f"only its owner ({row.owner}) or an administrator may change it")
    return row


def _check(session: Session, owner_id: int, name: str, since: str, hunt_id: int | None) -> None:
    _time(since, "since", datetime.now(UTC))  # any moment will do to validate
    taken = session.execute(
        select(SavedHunt.id).where(SavedHunt.owner_id == owner_id, SavedHunt.name == name)
    ).scalar_one_or_none()
    if taken is not None and taken != hunt_id:
        raise Conflict(f"you already have a saved hunt named {name!r}")


def create_saved_hunt(
    session: Session, data: SavedHuntCreate, *, principal: Principal, clock: Clock
) -> SavedHuntRead:
    _check(session, principal.user_id, data.name, data.since, None)
    now = clock.now()
    values = data.model_dump()
    row = SavedHunt(
        **values,
        owner_id=principal.user_id,
        owner=principal.username,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="saved_hunt.create",
        entity_type="saved_hunt",
        entity_id=row.id,
        clock=clock,
        summary=f"saved hunt {row.name}" + (" (shared)" if row.shared else ""),
        changes={k: v for k, v in values.items() if v not in ("", [], None)},
    )
    return SavedHuntRead.model_validate(row)


def update_saved_hunt(
    session: Session,
    hunt_id: int,
    data: SavedHuntUpdate,
    *,
    principal: Principal,
    clock: Clock,
) -> SavedHuntRead:
    """Change the fields sent; sending the current values writes nothing."""
    row = _changeable(session, hunt_id, principal)
    sent = data.model_dump(exclude_unset=True)
    changes = {
        name: [getattr(row, name), sent[name]]
        for name in _FIELDS
        if sent.get(name) is not None and sent[name] != getattr(row, name)
    }
    if not changes:
        return SavedHuntRead.model_validate(row)
    name = changes.get("name", [None, row.name])[1]
    since = changes.get("since", [None, row.since])[1]
    _check(session, row.owner_id, name, since, row.id)
    for field, (_old, new) in changes.items():
        setattr(row, field, new)
    row.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="saved_hunt.update",
        entity_type="saved_hunt",
        entity_id=row.id,
        clock=clock,
        summary=f"changed saved hunt {row.name}: {', '.join(changes)}",
        changes=changes,
    )
    return SavedHuntRead.model_validate(row)


def delete_saved_hunt(
    session: Session, hunt_id: int, *, principal: Principal, clock: Clock
) -> None:
    row = _changeable(session, hunt_id, principal)
    gone = {"name": row.name, "owner": row.owner, "sql": row.sql, "shared": row.shared}
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="saved_hunt.delete",
        entity_type="saved_hunt",
        entity_id=hunt_id,
        clock=clock,
        summary=f"deleted saved hunt {gone['name']} of {gone['owner']}",
        changes=gone,
    )


def get_saved_hunt(session: Session, hunt_id: int, *, principal: Principal) -> SavedHuntRead:
    return SavedHuntRead.model_validate(_load(session, hunt_id, principal))


def list_saved_hunts(
    session: Session,
    *,
    principal: Principal,
    mine_only: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> SavedHuntPage:
    """The caller's own hunts and the shared ones, by name (own first on a tie)."""
    where = SavedHunt.owner_id == principal.user_id if mine_only else _visible(principal)
    total = session.execute(select(func.count()).select_from(SavedHunt).where(where)).scalar_one()
    rows = session.execute(
        select(SavedHunt)
        .where(where)
        .order_by(func.lower(SavedHunt.name), SavedHunt.owner_id != principal.user_id, SavedHunt.id)
        .limit(limit)
        .offset(offset)
    ).scalars()
    items = [SavedHuntRead.model_validate(r) for r in rows]
    return SavedHuntPage(items=items, total=total, limit=limit, offset=offset)


def run_saved(
    session: Session,
    hunt_id: int,
    store: EventStore,
    *,
    principal: Principal,
    now: datetime,
    until: str | None = None,
    limit: int = 1000,
) -> HuntRun:
    """Run a saved hunt the caller may see, its `since` counted back from `now`."""
    row = _load(session, hunt_id, principal)
    return run_hunt(
        store,
        row.sql,
        now=now,
        since=row.since or None,
        until=until,
        datasets=row.datasets,
        limit=limit,
    )
