"""Reading the store: indicators (filtered, with their versions), sources, warninglists; the
`IndicatorIndex` continuous detection uses; re-ageing after the decay settings change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from civicshield.core.errors import NotFound
from civicshield.detect.indicators import IndicatorIndex, Lookup
from civicshield.intel.ageing import expires_at
from civicshield.intel.models import IntelIndicator, IntelObject, IntelSource, IntelWarninglist
from civicshield.intel.schemas import (
    IndicatorDetail,
    IndicatorFilter,
    IndicatorPage,
    IndicatorRead,
    SourceRead,
    WarninglistRead,
)

__all__ = [
    "active_condition",
    "apply_ageing",
    "get_indicator",
    "indicator_index",
    "list_indicators",
    "list_sources",
    "list_warninglists",
]


def active_condition(now: datetime) -> ColumnElement[bool]:
    """Usable for matching: matchable, not revoked, not suppressed, not expired."""
    return and_(
        IntelIndicator.not_matchable == "",
        IntelIndicator.revoked == false(),
        IntelIndicator.suppressed_by.is_(None),
        or_(IntelIndicator.expires_at.is_(None), IntelIndicator.expires_at > now),
    )


def _read(row: IntelIndicator, now: datetime) -> IndicatorRead:
    item = IndicatorRead.model_validate(row)
    item.active = (
        not row.not_matchable
        and not row.revoked
        and row.suppressed_by is None
        and (row.expires_at is None or row.expires_at > now)
    )
    return item


def list_indicators(
    session: Session, filters: IndicatorFilter, *, now: datetime, limit: int = 100, offset: int = 0
) -> IndicatorPage:
    where: list[ColumnElement[bool]] = [true()]
    if filters.kind:
        where.append(IntelIndicator.kind == filters.kind)
    if filters.tlp:
        where.append(IntelIndicator.tlp == filters.tlp)
    if filters.active is True:
        where.append(active_condition(now))
    elif filters.active is False:
        where.append(~active_condition(now))
    if filters.q:
        like = f"%{filters.q.lower()}%"
        where.append(
            or_(
                func.lower(IntelIndicator.pattern).like(like),
                func.lower(IntelIndicator.name).like(like),
            )
        )
    total = session.scalar(select(func.count()).select_from(IntelIndicator).where(*where)) or 0
    rows = session.scalars(
        select(IntelIndicator)
        .where(*where)
        .order_by(IntelIndicator.stix_id)
        .limit(limit)
        .offset(offset)
    )
    return IndicatorPage(
        items=[_read(r, now) for r in rows], total=total, limit=limit, offset=offset
    )


def get_indicator(session: Session, stix_id: str, *, now: datetime) -> IndicatorDetail:
    row = session.scalar(select(IntelIndicator).where(IntelIndicator.stix_id == stix_id))
    if row is None:
        raise NotFound(f"indicator {stix_id} does not exist")
    versions = session.scalars(
        select(IntelObject.body)
        .where(IntelObject.stix_id == stix_id)
        .order_by(IntelObject.modified_key.desc())
    ).all()
    return IndicatorDetail(**_read(row, now).model_dump(), versions=list(versions))


def indicator_index(session: Session, now: datetime) -> IndicatorIndex:
    """The current, unexpired, unsuppressed, matchable indicators, ready for matching."""
    rows = session.execute(
        select(IntelIndicator.stix_id, IntelIndicator.lookups).where(active_condition(now))
    )
    return IndicatorIndex.build(
        (stix_id, tuple(Lookup(str(kind), value) for kind, value in lookups))
        for stix_id, lookups in rows
    )


def apply_ageing(session: Session, *, decay_days: Mapping[str, int] | None) -> int:
    """Recompute every indicator's expiry with `decay_days`; returns how many changed."""
    changed = 0
    for row in session.scalars(select(IntelIndicator)):
        obj = session.get(IntelObject, row.object_id)
        if obj is None:
            continue
        new = expires_at(
            valid_from=obj.valid_from,
            valid_until=obj.valid_until,
            modified=obj.modified,
            kinds=sorted({str(k) for k, _ in row.lookups}),
            decay_days=decay_days,
        )
        if new != row.expires_at:
            row.expires_at = new
            changed += 1
    session.flush()
    return changed


def list_sources(session: Session) -> list[SourceRead]:
    rows = session.scalars(select(IntelSource).order_by(IntelSource.id))
    return [SourceRead.model_validate(r) for r in rows]


def list_warninglists(session: Session) -> list[WarninglistRead]:
    rows = session.scalars(select(IntelWarninglist).order_by(IntelWarninglist.name))
    return [
        WarninglistRead(
            name=r.name,
            version=r.version,
            type=r.type,
            description=r.description,
            entries=len(r.entries),
            loaded_at=r.loaded_at,
        )
        for r in rows
    ]
