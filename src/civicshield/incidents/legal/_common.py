"""Helpers shared by the legal-clock modules: the case in scope, its history and audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.incidents.cases import Scope, load_case, record_change
from civicshield.incidents.models import Case

__all__ = ["in_scope", "note_change"]


def note_change(
    session: Session,
    case: Case,
    field: str,
    old: Any,
    new: Any,
    *,
    actor: Actor,
    clock: Clock,
    action: str,
    summary: str,
    reason: str = "",
) -> None:
    """One `CaseChange` row and one audit entry for a change to the case's clocks."""
    case.updated_at = clock.now()
    session.flush()
    record_change(session, case, {field: (old, new)}, actor=actor, clock=clock, reason=reason)
    audit.record(
        session, actor=actor, action=action, entity_type="case", entity_id=case.id,
        clock=clock, summary=f"case {case.id}: {summary}",
        changes={field: [old, new]},
    )  # fmt: skip


def in_scope(session: Session, case_id: int, scope: Scope) -> Case:
    return load_case(session, case_id, scope)
