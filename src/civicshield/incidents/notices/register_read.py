"""Reading the register: a case's versions, the whole register (latest per case, within the
reader's sectors) and the verification of its hash chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.incidents.cases import Scope, load_case
from civicshield.incidents.models import Case, RegisterEntry
from civicshield.incidents.notices.register import GENESIS, entry_hash
from civicshield.incidents.notices.schemas import ChainCheck, RegisterEntryRead

__all__ = ["entry_versions", "list_register", "verify_register"]


def entry_versions(
    session: Session, case_id: int, *, scope: Scope = None
) -> list[RegisterEntryRead]:
    load_case(session, case_id, scope)
    rows = session.scalars(
        select(RegisterEntry)
        .where(RegisterEntry.case_id == case_id)
        .order_by(RegisterEntry.version)
    )
    return [RegisterEntryRead.model_validate(r) for r in rows]


def list_register(
    session: Session,
    *,
    scope: Scope = None,
    since: datetime | None = None,
    until: datetime | None = None,
    all_versions: bool = False,
) -> list[RegisterEntryRead]:
    """The latest version per case (or every version), oldest case first, within the reader's
    sectors; `since`/`until` bound when the version was recorded."""
    query = select(RegisterEntry, Case.sectors).join(Case, Case.id == RegisterEntry.case_id)
    if not all_versions:
        top = (
            select(RegisterEntry.case_id, func.max(RegisterEntry.version).label("v"))
            .group_by(RegisterEntry.case_id)
            .subquery()
        )
        query = query.join(
            top, (top.c.case_id == RegisterEntry.case_id) & (top.c.v == RegisterEntry.version)
        )
    if since is not None:
        query = query.where(RegisterEntry.recorded_at >= since)
    if until is not None:
        query = query.where(RegisterEntry.recorded_at < until)
    allowed = None if scope is None else {s.value for s in scope}
    out: list[RegisterEntryRead] = []
    for row, sectors in session.execute(
        query.order_by(RegisterEntry.case_id, RegisterEntry.version)
    ):
        if allowed is None or set(sectors) & allowed:
            out.append(RegisterEntryRead.model_validate(row))
    return out


def verify_register(session: Session) -> ChainCheck:
    """Recompute every row's hash in order; report the first row that does not match."""
    prev, count = GENESIS, 0
    for row in session.scalars(select(RegisterEntry).order_by(RegisterEntry.id)):
        count += 1
        if row.prev_hash != prev:
            return ChainCheck(
                ok=False,
                rows=count,
                first_broken_id=row.id,
                reason="prev_hash does not name the row before",
            )
        if entry_hash(row) != row.hash:
            return ChainCheck(
                ok=False,
                rows=count,
                first_broken_id=row.id,
                reason="content does not match its hash",
            )
        prev = row.hash
    return ChainCheck(ok=True, rows=count)
