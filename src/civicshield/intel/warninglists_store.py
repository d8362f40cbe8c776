"""Warninglists in the store: loading a directory of MISP `list.json` files (a list with the
same name is replaced), and re-checking every indicator against the loaded lists."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Invalid, NotFound
from civicshield.intel.models import IntelIndicator, IntelWarninglist
from civicshield.intel.store import suppression_of
from civicshield.intel.warninglists import Warninglist, WarninglistMatcher, read_list

__all__ = ["current_matcher", "load_warninglists", "recheck_suppression"]


def _lists(session: Session) -> list[Warninglist]:
    return [
        Warninglist(
            name=row.name,
            version=row.version,
            type=row.type,
            description=row.description,
            matching_attributes=tuple(row.matching_attributes),
            entries=tuple(row.entries),
        )
        for row in session.scalars(select(IntelWarninglist))
    ]


def current_matcher(session: Session) -> WarninglistMatcher:
    return WarninglistMatcher(_lists(session))


def recheck_suppression(session: Session) -> int:
    """Mark or clear suppression on every indicator; returns how many are suppressed."""
    matcher = current_matcher(session)
    suppressed = 0
    for row in session.scalars(select(IntelIndicator)):
        hit = suppression_of(row.lookups, matcher)
        row.suppressed_by, row.suppressed_entry = hit if hit else (None, None)
        suppressed += hit is not None
    session.flush()
    return suppressed


def load_warninglists(
    session: Session, directory: Path, *, actor: Actor, clock: Clock
) -> list[str]:
    """Load every `list.json` under `directory` (one level of sub-directories, as in
    MISP/misp-warninglists `lists/<name>/list.json`, or the files directly)."""
    if not directory.is_dir():
        raise NotFound(f"{directory} is not a directory")
    paths = sorted(directory.glob("*/list.json")) + sorted(directory.glob("list.json"))
    if not paths:
        raise Invalid(f"{directory}: no list.json found (expected <name>/list.json)")
    loaded = []
    for path in paths:
        try:
            wl = read_list(path)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        row = session.scalar(select(IntelWarninglist).where(IntelWarninglist.name == wl.name))
        if row is None:
            row = IntelWarninglist(name=wl.name)
            session.add(row)
        row.version = wl.version
        row.type = wl.type
        row.description = wl.description
        row.matching_attributes = list(wl.matching_attributes)
        row.entries = list(wl.entries)
        row.loaded_at = clock.now()
        loaded.append(wl.name)
    session.flush()
    suppressed = recheck_suppression(session)
    audit.record(
        session,
        actor=actor,
        action="intel.warninglists.load",
        entity_type="intel_warninglist",
        entity_id=str(directory)[:200],
        clock=clock,
        summary=f"loaded {len(loaded)} warninglists; {suppressed} indicators suppressed",
        changes={"lists": loaded},
    )
    return loaded
