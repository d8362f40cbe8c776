"""Reading the store: indicators (filtered and counted by state; one with its versions,
sightings and provenance), sources, warninglists; the `IndicatorIndex` continuous detection
uses; re-ageing after the decay settings change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, false, func, or_, select, true
from sqlalchemy.orm import Session

from civicshield.core.errors import NotFound
from civicshield.detect.indicators import IndicatorIndex, Lookup
from civicshield.intel.ageing import expires_at
from civicshield.intel.models import (
    IntelIndicator,
    IntelObject,
    IntelProvenance,
    IntelSource,
    IntelWarninglist,
)
from civicshield.intel.schemas import (
    IndicatorDetail,
    IndicatorFilter,
    IndicatorPage,
    IndicatorRead,
    ProvenanceRead,
    SourceRead,
    VersionRead,
    WarninglistRead,
)
from civicshield.intel.sightings import indicator_sightings, names_of

__all__ = [
    "active_condition",
    "apply_ageing",
    "get_indicator",
    "indicator_index",
    "list_indicators",
    "list_sources",
    "list_warninglists",
    "state_of",
]

_PROVENANCE_LIMIT = 200  # receipts shown, newest first


def active_condition(now: datetime) -> ColumnElement[bool]:
    """Usable for matching: matchable, not revoked, not suppressed, not expired."""
    return and_(
        IntelIndicator.not_matchable == "",
        IntelIndicator.revoked == false(),
        IntelIndicator.suppressed_by.is_(None),
        or_(IntelIndicator.expires_at.is_(None), IntelIndicator.expires_at > now),
    )


def state_of(now: datetime) -> ColumnElement[str]:
    """The one state of each indicator: the first reason it is not used, else "active"."""
    return case(
        (IntelIndicator.not_matchable != "", "not_matchable"),
        (IntelIndicator.revoked == true(), "revoked"),
        (IntelIndicator.suppressed_by.is_not(None), "suppressed"),
        (and_(IntelIndicator.expires_at.is_not(None), IntelIndicator.expires_at <= now), "expired"),
        else_="active",
    )


def _read(row: IntelIndicator, now: datetime) -> IndicatorRead:
    item = IndicatorRead.model_validate(row)
    reasons = (
        ("not_matchable", bool(row.not_matchable)),
        ("revoked", row.revoked),
        ("suppressed", row.suppressed_by is not None),
        ("expired", row.expires_at is not None and row.expires_at <= now),
    )
    item.state = next((state for state, why in reasons if why), "active")
    item.active = item.state == "active"
    return item


def _conditions(filters: IndicatorFilter, now: datetime) -> list[ColumnElement[bool]]:
    """Every filter but the state (counted per state beside the list)."""
    where: list[ColumnElement[bool]] = [true()]
    if filters.kind:
        where.append(IntelIndicator.kind == filters.kind)
    if filters.tlp:
        where.append(IntelIndicator.tlp == filters.tlp)
    if filters.active is True:
        where.append(active_condition(now))
    elif filters.active is False:
        where.append(~active_condition(now))
    if filters.source_id is not None:
        # From that source first, or received from it again later (provenance).
        received = select(IntelProvenance.object_id).where(
            IntelProvenance.source_id == filters.source_id
        )
        where.append(
            IntelIndicator.stix_id.in_(
                select(IntelObject.stix_id).where(
                    or_(IntelObject.source_id == filters.source_id, IntelObject.id.in_(received))
                )
            )
        )
    if filters.q:
        like = f"%{filters.q.lower()}%"
        where.append(
            or_(
                func.lower(IntelIndicator.pattern).like(like),
                func.lower(IntelIndicator.name).like(like),
                func.lower(cast(IntelIndicator.lookups, String)).like(like),
            )
        )
    return where


def list_indicators(
    session: Session, filters: IndicatorFilter, *, now: datetime, limit: int = 100, offset: int = 0
) -> IndicatorPage:
    where = _conditions(filters, now)
    # Grouped over a subquery: PostgreSQL refuses GROUP BY a CASE holding bound parameters.
    states = select(state_of(now).label("state")).where(*where).subquery()
    counts = {
        str(state): int(n)
        for state, n in session.execute(
            select(states.c.state, func.count()).group_by(states.c.state)
        )
    }
    if filters.state:
        where.append(state_of(now) == filters.state)
    total = session.scalar(select(func.count()).select_from(IntelIndicator).where(*where)) or 0
    rows = session.scalars(
        select(IntelIndicator)
        .where(*where)
        .order_by(IntelIndicator.stix_id)
        .limit(limit)
        .offset(offset)
    )
    return IndicatorPage(
        items=[_read(r, now) for r in rows], total=total, limit=limit, offset=offset, counts=counts
    )


def _dicts(body: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _provenance(session: Session, stix_id: str) -> list[ProvenanceRead]:
    rows = session.execute(
        select(IntelProvenance, IntelObject.modified, IntelSource)
        .join(IntelObject, IntelObject.id == IntelProvenance.object_id)
        .outerjoin(IntelSource, IntelSource.id == IntelProvenance.source_id)
        .where(IntelObject.stix_id == stix_id)
        .order_by(IntelProvenance.received_at.desc(), IntelProvenance.id.desc())
        .limit(_PROVENANCE_LIMIT)
    )
    return [
        ProvenanceRead(
            received_at=prov.received_at,
            modified=modified,
            source_id=prov.source_id,
            source_kind=source.kind if source else None,
            source_name=source.name if source else None,
            source_location=source.location if source else None,
            detail=dict(prov.detail or {}),
        )
        for prov, modified, source in rows
    ]


def get_indicator(session: Session, stix_id: str, *, now: datetime) -> IndicatorDetail:
    row = session.scalar(select(IntelIndicator).where(IntelIndicator.stix_id == stix_id))
    if row is None:
        raise NotFound(f"indicator {stix_id} does not exist")
    stored = session.execute(
        select(IntelObject, IntelSource)
        .outerjoin(IntelSource, IntelSource.id == IntelObject.source_id)
        .where(IntelObject.stix_id == stix_id)
        .order_by(IntelObject.modified_key.desc())
    ).all()
    history = [
        VersionRead(
            modified=obj.modified,
            imported_at=obj.imported_at,
            revoked=obj.revoked,
            source_id=obj.source_id,
            source_kind=source.kind if source else None,
            source_name=source.name if source else None,
        )
        for obj, source in stored
    ]
    current = next((obj for obj, _ in stored if obj.id == row.object_id), stored[0][0])
    body = current.body
    creator = current.created_by_ref
    sightings = indicator_sightings(session, stix_id)
    return IndicatorDetail(
        **_read(row, now).model_dump(),
        versions=[obj.body for obj, _ in stored],
        description=str(body.get("description", "")),
        confidence=current.confidence,
        labels=list(current.labels or []),
        kill_chain_phases=_dicts(body, "kill_chain_phases"),
        external_references=_dicts(body, "external_references"),
        created_by_ref=creator,
        created_by=names_of(session, [creator]).get(creator) if creator else None,
        valid_until=current.valid_until,
        history=history,
        sightings=sightings,
        sighting_count=sum(s.count if s.count is not None else 1 for s in sightings),
        provenance=_provenance(session, stix_id),
    )


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
