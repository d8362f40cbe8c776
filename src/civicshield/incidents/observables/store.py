"""A case's observables: added by hand or taken from its alerts, removed, listed; and the other
cases that share one (related cases), within the reader's sector scope.

Every change is audited and kept in the case's history (`observable` field). Matching against
threat-intel indicators comes with issue 8; the type keeps its STIX mapping for that.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from civicshield import alerts, audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Tlp
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.incidents.cases import Scope, load_case, record_change
from civicshield.incidents.models import Case, CaseAlert, Observable
from civicshield.incidents.observables.values import STIX_TYPES, normalise

__all__ = [
    "ObservableCreate",
    "ObservableRead",
    "RelatedCase",
    "add_observable",
    "from_alerts",
    "list_observables",
    "related_cases",
    "remove_observable",
]

# Alert fields (ECS names) whose values become observables, and their type.
_FIELD_TYPES: dict[str, str] = {
    "source.ip": "ip", "destination.ip": "ip", "client.ip": "ip", "server.ip": "ip",
    "host.name": "hostname", "host.hostname": "hostname", "source.domain": "hostname",
    "destination.domain": "hostname", "dns.question.name": "domain", "url.domain": "domain",
    "url.full": "url", "url.original": "url", "user.name": "user", "source.user.name": "user",
    "user_agent.original": "user-agent", "file.hash.sha256": "sha256", "file.hash.md5": "md5",
    "file.hash.sha1": "sha1", "file.name": "filename", "email.from.address": "email",
}  # fmt: skip


class ObservableCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(max_length=32, description="One of OBSERVABLE_TYPES (ipv4, domain, ...).")
    value: str = Field(max_length=2000)
    ioc: bool = Field(default=False, description="An indicator of compromise, not just seen.")
    tlp: Tlp = Tlp.AMBER
    note: str = Field(default="", max_length=2000)


class ObservableRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    type: str
    value: str
    ioc: bool
    tlp: Tlp
    note: str
    added_at: datetime
    added_by: str
    stix_type: str = ""


class RelatedCase(BaseModel):
    """Another case sharing observables with this one, and which."""

    id: int
    title: str
    status: str
    severity: str
    shared: list[str]  # "type:value"


def _read(row: Observable) -> ObservableRead:
    return ObservableRead.model_validate(row).model_copy(update={"stix_type": STIX_TYPES[row.type]})


def list_observables(session: Session, case_id: int, scope: Scope = None) -> list[ObservableRead]:
    load_case(session, case_id, scope)
    rows = session.scalars(
        select(Observable).where(Observable.case_id == case_id).order_by(Observable.id)
    )
    return [_read(r) for r in rows]


def _store(
    session: Session, case: Case, items: Iterable[tuple[str, str, ObservableCreate]],
    *, actor: Actor, clock: Clock,
) -> list[ObservableRead]:  # fmt: skip
    have = {
        (t, v) for t, v in session.execute(
            select(Observable.type, Observable.value).where(Observable.case_id == case.id)
        )
    }  # fmt: skip
    added: list[Observable] = []
    for kind, value, data in items:
        if (kind, value) in have:
            continue
        have.add((kind, value))
        row = Observable(
            case_id=case.id, type=kind, value=value, ioc=data.ioc, tlp=data.tlp.value,
            note=data.note, added_at=clock.now(), added_by=actor.label,
        )  # fmt: skip
        session.add(row)
        added.append(row)
    if added:
        session.flush()
        shown = [f"{r.type}:{r.value}" for r in added]
        record_change(session, case, {"observable": (None, shown)}, actor=actor, clock=clock)
        audit.record(
            session, actor=actor, action="case.observable.add", entity_type="case",
            entity_id=case.id, clock=clock, summary=f"case {case.id}: {', '.join(shown)[:500]}",
        )  # fmt: skip
    return [_read(r) for r in added]


def add_observable(
    session: Session, case_id: int, data: ObservableCreate, *, actor: Actor, clock: Clock,
    scope: Scope = None,
) -> ObservableRead:  # fmt: skip
    """Add one observable; 409 when the case already has it (same type and normalised value)."""
    case = load_case(session, case_id, scope)
    value = normalise(data.type, data.value)
    added = _store(session, case, [(data.type, value, data)], actor=actor, clock=clock)
    if not added:
        raise Conflict(f"case {case.id} already has the observable {data.type}:{value}")
    return added[0]


def remove_observable(
    session: Session, case_id: int, observable_id: int, *, actor: Actor, clock: Clock,
    scope: Scope = None,
) -> None:  # fmt: skip
    case = load_case(session, case_id, scope)
    row = session.get(Observable, observable_id)
    if row is None or row.case_id != case.id:
        raise NotFound(f"observable {observable_id} does not exist in case {case.id}")
    shown = f"{row.type}:{row.value}"
    session.delete(row)
    session.flush()
    record_change(session, case, {"observable": (shown, None)}, actor=actor, clock=clock)
    audit.record(
        session, actor=actor, action="case.observable.remove", entity_type="case",
        entity_id=case.id, clock=clock, summary=f"case {case.id}: removed {shown}"[:500],
    )  # fmt: skip


def _typed(field: str, raw: Any) -> tuple[str, str] | None:
    """(type, normalised value) for an alert field's value, or None when it is not one."""
    kind = _FIELD_TYPES.get(field)
    if kind is None or raw is None or str(raw).strip() in ("", "-"):
        return None
    text = str(raw).strip()
    if kind == "ip":
        kind = "ipv6" if ":" in text else "ipv4"
    try:
        return kind, normalise(kind, text)
    except Invalid:
        return None  # a malformed field in a log line is not worth refusing the others


def from_alerts(
    session: Session, case_id: int, *, actor: Actor, clock: Clock, scope: Scope = None
) -> list[ObservableRead]:
    """Take IPs, host names, user names, URLs and hashes from the key fields and sample events
    of the case's alerts; returns the observables that were new."""
    case = load_case(session, case_id, scope)
    ids = session.scalars(select(CaseAlert.alert_id).where(CaseAlert.case_id == case.id))
    found: dict[tuple[str, str], None] = {}
    for alert_id in ids:
        try:
            alert = alerts.get_alert(session, alert_id, scope=scope)
        except NotFound:
            continue  # outside the reader's sectors: not theirs to read
        pairs = [*alert.key_fields.items(), *(p for e in alert.events for p in e.fields.items())]
        for field, raw in pairs:
            typed = _typed(field, raw)
            if typed:
                found[typed] = None
    data = ObservableCreate(type="other", value="-", note="from the alerts")
    return _store(session, case, [(k, v, data) for k, v in found], actor=actor, clock=clock)


def related_cases(session: Session, case_id: int, scope: Scope = None) -> list[RelatedCase]:
    """Other cases with an observable of the same type and value; those outside the scope are
    left out (they do not exist for the reader)."""
    load_case(session, case_id, scope)
    mine = [
        (kind, value)
        for kind, value in session.execute(
            select(Observable.type, Observable.value).where(Observable.case_id == case_id)
        )
    ]
    if not mine:
        return []
    rows = session.execute(
        select(Observable.case_id, Observable.type, Observable.value)
        .where(Observable.case_id != case_id, tuple_(Observable.type, Observable.value).in_(mine))
        .order_by(Observable.case_id, Observable.id)
    )
    shared: dict[int, list[str]] = {}
    for other, kind, value in rows:
        shared.setdefault(other, []).append(f"{kind}:{value}")
    out: list[RelatedCase] = []
    for other, values in shared.items():
        try:
            case = load_case(session, other, scope)
        except NotFound:
            continue
        out.append(
            RelatedCase(
                id=case.id, title=case.title, status=case.status, severity=case.severity,
                shared=values,
            )
        )  # fmt: skip
    return out
