"""Keeping STIX object versions and the indicator rows derived from them.

A version is (STIX id, `modified`): the same pair again is unchanged, a new `modified` a new
version. An indicator row always reflects the latest version (whatever order versions arrive
in): its pattern compiled into lookups once, here, or the reason it cannot be matched.

Every version received, stored or unchanged, gets one provenance row (which source, when, and
what the sender said about it), written in one bulk insert per call."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from civicshield.detect.indicators import Lookup, PatternError, compile_pattern
from civicshield.intel.ageing import expires_at
from civicshield.intel.models import IntelIndicator, IntelObject, IntelProvenance, IntelSource
from civicshield.intel.report import ImportReport
from civicshield.intel.stix_objects import StixRecord, modified_key
from civicshield.intel.tlp import tlp_of_refs
from civicshield.intel.warninglists import WarninglistMatcher

__all__ = [
    "StoreContext",
    "lookup_text",
    "record_provenance",
    "refresh_indicator",
    "refresh_indicators",
    "source_for",
    "store_records",
    "suppression_of",
]

_CHUNK = 500  # ids per IN (...) query: well under SQLite's bound-parameter limit


@dataclass
class StoreContext:
    now: datetime
    matcher: WarninglistMatcher = field(default_factory=lambda: WarninglistMatcher([]))
    decay_days: Mapping[str, int] | None = None


def source_for(
    session: Session, *, kind: str, name: str, location: str, now: datetime
) -> IntelSource:
    source = session.scalar(
        select(IntelSource).where(IntelSource.kind == kind, IntelSource.location == location)
    )
    if source is None:
        source = IntelSource(
            kind=kind, name=name, location=location, state={}, counts={}, created_at=now
        )
        session.add(source)
        session.flush()
    return source


def _held_versions(session: Session, stix_ids: Sequence[str]) -> dict[tuple[str, str], int]:
    """(STIX id, version key) -> row id of what the store already holds, in chunks."""
    held: dict[tuple[str, str], int] = {}
    query = select(IntelObject.stix_id, IntelObject.modified_key, IntelObject.id)
    for start in range(0, len(stix_ids), _CHUNK):
        chunk = stix_ids[start : start + _CHUNK]
        for stix_id, key, row_id in session.execute(query.where(IntelObject.stix_id.in_(chunk))):
            held[(stix_id, key)] = row_id
    return held


def store_records(
    session: Session,
    records: Sequence[StixRecord],
    *,
    source: IntelSource | None,
    report: ImportReport,
    ctx: StoreContext,
    provenance: Mapping[str, Any] | None = None,
) -> None:
    """Store the new versions among `records`; record where every one of them came from
    (`provenance` is the detail kept on each row: peer, collection, date_added, event uuid).
    Set-wise: one query per chunk of ids for what is held, one insert for what is new."""
    held = _held_versions(session, sorted({rec.stix_id for rec in records}))
    known_ids = {stix_id for stix_id, _ in held}
    touched: set[str] = set()
    received: list[int | IntelObject] = []
    for rec in records:
        key = modified_key(rec.modified)
        if (rec.stix_id, key) in held:
            report.unchanged += 1
            received.append(held[(rec.stix_id, key)])
            continue
        if rec.stix_id in known_ids:
            report.new_versions += 1
        else:
            report.new += 1
        row = IntelObject(
            stix_id=rec.stix_id,
            type=rec.type,
            spec_version=rec.spec_version,
            created=rec.created,
            modified_key=key,
            modified=rec.modified,
            revoked=rec.revoked,
            valid_from=rec.valid_from,
            valid_until=rec.valid_until,
            confidence=rec.confidence,
            labels=rec.labels,
            created_by_ref=rec.created_by_ref,
            object_marking_refs=rec.object_marking_refs,
            body=rec.body,
            source_id=source.id if source else None,
            imported_at=ctx.now,
        )
        session.add(row)
        held[(rec.stix_id, key)] = -1  # the same version twice in one batch: stored once
        known_ids.add(rec.stix_id)
        received.append(row)
        if rec.type == "indicator":
            touched.add(rec.stix_id)
    session.flush()  # one multi-row insert; the rows get their ids
    ids = [item if isinstance(item, int) else item.id for item in received]
    record_provenance(
        session, [i for i in ids if i > 0], source=source, now=ctx.now, detail=provenance
    )
    for row_ind in refresh_indicators(session, sorted(touched), ctx):
        if row_ind.not_matchable:
            report.not_matchable += 1


def record_provenance(
    session: Session,
    object_ids: Sequence[int],
    *,
    source: IntelSource | None,
    now: datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One provenance row per received version, in one bulk insert."""
    if not object_ids:
        return
    base = dict(detail or {})
    if source is not None:
        base.setdefault("source_kind", source.kind)
        base.setdefault("location", source.location)
    source_id = source.id if source else None
    session.execute(
        insert(IntelProvenance),
        [
            {"object_id": oid, "source_id": source_id, "received_at": now, "detail": base}
            for oid in object_ids
        ],
    )


def lookup_text(kind: str, value: str | int) -> str:
    """A lookup value as people write it: a host network (/32, /128) as its bare address."""
    text = str(value)
    if kind in ("ipv4", "ipv6") and "/" in text:
        net = ipaddress.ip_network(text, strict=False)
        if net.num_addresses == 1:
            return str(net.network_address)
    return text


def suppression_of(
    lookups: Sequence[Sequence[object]], matcher: WarninglistMatcher
) -> tuple[str, str] | None:
    for kind, value in lookups:
        hit = matcher.find(str(kind), lookup_text(str(kind), value))  # type: ignore[arg-type]
        if hit is not None:
            return hit
    return None


def refresh_indicator(session: Session, stix_id: str, ctx: StoreContext) -> IntelIndicator:
    """Recompute the indicator row of `stix_id` from its latest version."""
    return refresh_indicators(session, [stix_id], ctx)[0]


def refresh_indicators(
    session: Session, stix_ids: Sequence[str], ctx: StoreContext
) -> list[IntelIndicator]:
    """Recompute the indicator rows of `stix_ids` from their latest versions, in chunks."""
    out: list[IntelIndicator] = []
    for start in range(0, len(stix_ids), _CHUNK):
        chunk = list(stix_ids[start : start + _CHUNK])
        latest: dict[str, IntelObject] = {}
        for obj in session.scalars(select(IntelObject).where(IntelObject.stix_id.in_(chunk))):
            if obj.stix_id not in latest or obj.modified_key > latest[obj.stix_id].modified_key:
                latest[obj.stix_id] = obj
        rows = {
            row.stix_id: row
            for row in session.scalars(
                select(IntelIndicator).where(IntelIndicator.stix_id.in_(chunk))
            )
        }
        for stix_id in chunk:
            row = rows.get(stix_id)
            if row is None:
                row = IntelIndicator(stix_id=stix_id)
                session.add(row)
            _fill(row, latest[stix_id], ctx)
            out.append(row)
    session.flush()
    return out


def _fill(row: IntelIndicator, current: IntelObject, ctx: StoreContext) -> None:
    body = current.body
    pattern = str(body.get("pattern", ""))
    pattern_type = str(body.get("pattern_type", ""))
    lookups: tuple[Lookup, ...] = ()
    reason = ""
    if pattern_type != "stix":
        reason = f"pattern_type {pattern_type!r} is not matched (only 'stix')"
    else:
        try:
            lookups = compile_pattern(pattern)
        except PatternError as exc:
            reason = str(exc)
    pairs = [[lk.kind, lk.value] for lk in lookups]
    kinds = sorted({lk.kind for lk in lookups})
    tlp = tlp_of_refs(current.object_marking_refs)
    hit = suppression_of(pairs, ctx.matcher)
    row.object_id = current.id
    row.name = str(body.get("name", ""))[:500]
    row.pattern = pattern
    row.pattern_type = pattern_type
    row.kind = lookups[0].kind if lookups else ""
    row.lookups = pairs
    row.not_matchable = reason
    row.tlp = tlp.value if tlp else None
    row.revoked = current.revoked
    row.valid_from = current.valid_from
    row.modified = current.modified
    row.expires_at = expires_at(
        valid_from=current.valid_from,
        valid_until=current.valid_until,
        modified=current.modified,
        kinds=kinds,
        decay_days=ctx.decay_days,
    )
    row.suppressed_by, row.suppressed_entry = hit if hit else (None, None)
