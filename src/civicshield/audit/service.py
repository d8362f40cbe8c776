"""Append to and verify the hash-chained audit log.

Each entry's hash is SHA-256 over the previous entry's hash and a canonical JSON form of the
entry (sequence number included), so an edited, deleted or reordered row breaks the chain.
Writers first touch the single head row with an UPDATE, which takes a row lock on PostgreSQL
and the write lock on SQLite, so concurrent writers line up instead of forking the chain.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from civicshield.audit.models import AuditEntry, AuditHead
from civicshield.audit.schemas import AuditEntryRead, AuditPage, ChainReport
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock

__all__ = ["GENESIS", "entry_hash", "list_entries", "record", "verify_chain"]

GENESIS = "0" * 64
log = logging.getLogger("civicshield.audit")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    actor_id: int | None,
    ip: str | None,
    action: str,
    entity_type: str,
    entity_id: str,
    summary: str,
    changes: dict[str, Any],
) -> str:
    body = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "actor_id": actor_id,
        "ip": ip,
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "summary": summary,
        "changes": changes,
    }
    return hashlib.sha256((prev_hash + _canonical(body)).encode("utf-8")).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    touched = session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
    if touched.rowcount == 0:  # type: ignore[attr-defined]
        session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        session.flush()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    session.refresh(head)
    return head


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str | int,
    clock: Clock,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntryRead:
    """Append one entry; it commits with the caller's unit of work (or rolls back with it)."""
    head = _lock_head(session)
    at = clock.now()
    clean_changes = json.loads(_canonical(changes or {}))
    seq = head.seq + 1
    fields = {
        "seq": seq,
        "at": at,
        "actor": actor.label,
        "actor_id": actor.user_id,
        "ip": actor.ip,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "summary": summary,
        "changes": clean_changes,
    }
    digest = entry_hash(prev_hash=head.hash, **fields)
    entry = AuditEntry(prev_hash=head.hash, hash=digest, **fields)
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    log.info("%s %s %s:%s", actor.label, action, entity_type, entity_id)
    return AuditEntryRead.model_validate(entry)


def list_entries(
    session: Session,
    *,
    limit: int = 50,
    offset: int = 0,
    actor: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditPage:
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action))
    if entity_type:
        query = query.where(AuditEntry.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(
        query.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset)
    ).scalars()
    return AuditPage(
        items=[AuditEntryRead.model_validate(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the whole chain in order; report the first entry that does not fit."""
    head = session.get(AuditHead, 1)
    head_seq = head.seq if head else 0
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        table = AuditEntry.__table__
        rows = session.execute(
            select(table).where(table.c.seq > last_seq).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(
                    ok=False,
                    checked=checked,
                    head_seq=head_seq,
                    broken_at=expected_seq,
                    reason=f"entry {expected_seq} is missing (next entry found is {row.seq})",
                )
            if row.prev_hash != prev_hash:
                return ChainReport(
                    ok=False,
                    checked=checked,
                    head_seq=head_seq,
                    broken_at=row.seq,
                    reason=f"entry {row.seq} does not point at entry {row.seq - 1} "
                    "(entries were reordered, replaced or deleted)",
                )
            digest = entry_hash(
                prev_hash=row.prev_hash,
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                actor_id=row.actor_id,
                ip=row.ip,
                action=row.action,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                summary=row.summary,
                changes=row.changes,
            )
            if digest != row.hash:
                return ChainReport(
                    ok=False,
                    checked=checked,
                    head_seq=head_seq,
                    broken_at=row.seq,
                    reason=f"entry {row.seq} was edited (its content no longer matches its hash)",
                )
            prev_hash, expected_seq, checked = row.hash, row.seq + 1, checked + 1
            last_seq = row.seq
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(
            ok=False,
            checked=checked,
            head_seq=head_seq,
            broken_at=checked + 1,
            reason=f"the chain ends at entry {checked} but the head records entry {head.seq} "
            "(entries at the end were deleted, or the head was altered)",
        )
    return ChainReport(ok=True, checked=checked, head_seq=head_seq)
