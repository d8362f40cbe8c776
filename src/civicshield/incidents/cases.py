"""Cases: open by hand or from alerts (escalating them, or merging them into an open case),
change with every field's history kept, read within a sector operator's scope.

A case takes from its alerts the sectors and assets they concern, the ATT&CK techniques, the
highest severity and the earliest event time (`first_event_at`, for time-to-detect). Every change
of a field is one `CaseChange` row (append-only) and one audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from civicshield import alerts, audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.enums import Sector, Severity
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.incidents.models import Case, CaseAlert, CaseChange, CaseTask
from civicshield.incidents.schemas import (
    CaseChangeRead,
    CaseCreate,
    CaseDetail,
    CaseFromAlerts,
    CasePage,
    CaseRead,
    CaseStatus,
    CaseUpdate,
    TaskRead,
)

__all__ = [
    "Scope",
    "add_alerts",
    "create_case",
    "get_case",
    "list_cases",
    "load_case",
    "open_from_alerts",
    "record_change",
    "update_case",
]

Scope = frozenset[Sector] | None
_TRACKED = ("title", "description", "severity", "tlp", "pap", "status", "resolution", "owner",
            "team", "sectors", "techniques")  # fmt: skip


def _value(value: Any) -> Any:
    """JSON-ready: enums by value, times in ISO 8601."""
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "value", value)


def load_case(session: Session, case_id: int, scope: Scope = None) -> Case:
    case = session.get(Case, case_id)
    if case is None or (scope is not None and not set(case.sectors) & {s.value for s in scope}):
        raise NotFound(f"case {case_id} does not exist")
    return case


def record_change(
    session: Session,
    case: Case,
    changes: dict[str, tuple[Any, Any]],
    *,
    actor: Actor,
    clock: Clock,
    reason: str = "",
) -> None:
    """One `CaseChange` row per changed field (old → new), shared by every incident module
    that changes a case (tasks, clocks, notices, observables)."""
    now = clock.now()
    for name, (old, new) in changes.items():
        session.add(
            CaseChange(
                case_id=case.id, at=now, actor=actor.label, actor_id=actor.user_id,
                field=name, old=_value(old), new=_value(new), reason=reason,
            )
        )  # fmt: skip


def create_case(
    session: Session, data: CaseCreate, *, actor: Actor, clock: Clock, source: str = "manual"
) -> CaseRead:
    now = clock.now()
    case = Case(
        title=data.title.strip(),
        description=data.description,
        severity=data.severity.value,
        tlp=data.tlp.value,
        pap=data.pap.value,
        status=CaseStatus.NEW.value,
        owner=data.owner or actor.name,
        team=list(dict.fromkeys(data.team)),
        sectors=sorted({s.value for s in data.sectors}),
        asset_ids=sorted(set(data.asset_ids)),
        techniques=sorted({t.upper() for t in data.techniques}),
        source=source,
        opened_at=now,
        created_by=actor.label,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    record_change(session, case, {"status": (None, case.status)}, actor=actor, clock=clock)
    audit.record(
        session, actor=actor, action="case.create", entity_type="case", entity_id=case.id,
        clock=clock, summary=f"case {case.id}: {case.title} ({case.severity})",
    )  # fmt: skip
    return CaseRead.model_validate(case)


def _absorb(case: Case, found: Sequence[alerts.AlertRead]) -> dict[str, tuple[Any, Any]]:
    """What the alerts add to the case: sectors, assets, techniques, severity, first event."""
    changes: dict[str, tuple[Any, Any]] = {}
    sectors = sorted(set(case.sectors) | {a.sector.value for a in found if a.sector})
    assets = sorted(set(case.asset_ids) | {a.asset_id for a in found if a.asset_id})
    techniques = sorted(set(case.techniques) | {t for a in found for t in a.techniques})
    worst = max([Severity(case.severity), *(a.severity for a in found)], key=lambda s: s.rank)
    first = min(
        [t for t in [as_utc(case.first_event_at), *(a.first_seen for a in found)] if t is not None]
    )
    for name, new in (
        ("sectors", sectors),
        ("asset_ids", assets),
        ("techniques", techniques),
        ("severity", worst.value),
        ("first_event_at", first),
    ):
        old = getattr(case, name)
        if _value(as_utc(old) if name == "first_event_at" else old) != _value(new):
            changes[name] = (old, new)
            setattr(case, name, new)
    return changes


def add_alerts(
    session: Session,
    case_id: int,
    alert_ids: Sequence[int],
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
    reason: str = "",
) -> CaseRead:
    """Merge alerts into a case: each is linked (an alert already in another case is refused
    with its case), escalated when still open, and the case takes what they concern."""
    case = load_case(session, case_id, scope)
    if case.status == CaseStatus.CLOSED.value:
        raise Conflict(f"case {case.id} is closed; reopen it before adding alerts")
    found = [alerts.get_alert(session, i, scope=scope) for i in dict.fromkeys(alert_ids)]
    taken = session.execute(
        select(CaseAlert.alert_id, CaseAlert.case_id).where(
            CaseAlert.alert_id.in_([a.id for a in found])
        )
    ).all()
    elsewhere = [f"alert {a} is in case {c}" for a, c in taken if c != case.id]
    if elsewhere:
        raise Conflict("; ".join(elsewhere))
    already = {a for a, _ in taken}
    fresh = [a for a in found if a.id not in already]
    now = clock.now()
    for alert in fresh:
        session.add(
            CaseAlert(case_id=case.id, alert_id=alert.id, added_at=now, added_by=actor.label)
        )
    open_ids = [
        a.id for a in fresh if a.status in (alerts.AlertStatus.NEW, alerts.AlertStatus.ACKNOWLEDGED)
    ]
    if open_ids:
        alerts.triage(
            session, open_ids, "escalate", reason=reason or f"escalated to case {case.id}",
            actor=actor, clock=clock, scope=scope,
        )  # fmt: skip
    changes = _absorb(case, fresh)
    if fresh:
        changes["alerts"] = (None, [a.id for a in fresh])
    case.updated_at = now
    session.flush()
    record_change(session, case, changes, actor=actor, clock=clock, reason=reason)
    audit.record(
        session, actor=actor, action="case.alerts", entity_type="case", entity_id=case.id,
        clock=clock, summary=f"{len(fresh)} alert(s) added to case {case.id}",
    )  # fmt: skip
    return CaseRead.model_validate(case)


def open_from_alerts(
    session: Session, data: CaseFromAlerts, *, actor: Actor, clock: Clock, scope: Scope = None
) -> CaseRead:
    """Escalate alerts into a new case (titled after the first alert's rule unless `title`),
    or merge them into `data.case_id`."""
    if data.case_id is not None:
        return add_alerts(
            session, data.case_id, data.alert_ids, actor=actor, clock=clock, scope=scope,
            reason=data.reason,
        )  # fmt: skip
    first = alerts.get_alert(session, data.alert_ids[0], scope=scope)
    title = (
        data.title
        or f"{first.rule_title} ({', '.join(first.key_fields.values()) or first.dataset})"
    )
    created = create_case(
        session,
        CaseCreate(title=title[:300], severity=first.severity,
                   description=f"Opened from alert(s) {', '.join(map(str, data.alert_ids))}."),
        actor=actor, clock=clock, source="alerts",
    )  # fmt: skip
    return add_alerts(
        session, created.id, data.alert_ids, actor=actor, clock=clock, scope=scope,
        reason=data.reason,
    )  # fmt: skip


def update_case(
    session: Session,
    case_id: int,
    data: CaseUpdate,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> CaseRead:
    case = load_case(session, case_id, scope)
    wanted = data.model_dump(exclude_unset=True, exclude={"reason"})
    if "sectors" in wanted:
        wanted["sectors"] = sorted({_value(s) for s in wanted["sectors"]})
    if "techniques" in wanted:
        wanted["techniques"] = sorted({t.upper() for t in wanted["techniques"]})
    new_status = _value(wanted.get("status", case.status))
    resolution = wanted.get("resolution", case.resolution) or ""
    if new_status == CaseStatus.CLOSED.value and not resolution.strip():
        raise Invalid(
            "closing a case needs a resolution",
            [FieldError(("body", "resolution"), "say how the incident ended")],
        )
    changes = {
        k: (getattr(case, k), _value(v))
        for k, v in wanted.items()
        if _value(getattr(case, k)) != _value(v)
    }
    if not changes:
        return CaseRead.model_validate(case)
    for name, (_, new) in changes.items():
        setattr(case, name, new)
    now = clock.now()
    if "status" in changes:
        case.closed_at = now if new_status == CaseStatus.CLOSED.value else None
    case.updated_at = now
    session.flush()
    record_change(session, case, changes, actor=actor, clock=clock, reason=data.reason)
    audit.record(
        session, actor=actor, action="case.update", entity_type="case", entity_id=case.id,
        clock=clock, summary=f"case {case.id}: {', '.join(sorted(changes))}",
        changes={k: [_value(o), _value(n)] for k, (o, n) in changes.items()},
    )  # fmt: skip
    return CaseRead.model_validate(case)


def list_cases(
    session: Session,
    *,
    status: Sequence[CaseStatus] = (),
    open_only: bool = False,
    sector: Sector | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
    scope: Scope = None,
) -> CasePage:
    """Cases, newest first. Scoped ones are those touching one of the scope's sectors."""
    stmt = select(Case)
    if status:
        stmt = stmt.where(Case.status.in_([s.value for s in status]))
    if open_only:
        stmt = stmt.where(Case.status != CaseStatus.CLOSED.value)
    sectors = [sector.value] if sector else []
    if scope is not None:
        sectors = [s.value for s in scope if not sectors or s.value in sectors] or ["\x00none"]
    if sectors:
        text = cast(Case.sectors, String)
        stmt = stmt.where(or_(*(text.like(f'%"{s}"%') for s in sectors)))
    if q:
        stmt = stmt.where(func.lower(Case.title).like(f"%{q.strip().lower()}%"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit).offset(offset)
    )
    return CasePage(
        items=[CaseRead.model_validate(c) for c in rows], total=total, limit=limit, offset=offset
    )


def get_case(session: Session, case_id: int, *, scope: Scope = None) -> CaseDetail:
    case = load_case(session, case_id, scope)
    alert_ids = list(
        session.scalars(
            select(CaseAlert.alert_id).where(CaseAlert.case_id == case.id).order_by(CaseAlert.id)
        )
    )
    tasks = session.scalars(
        select(CaseTask).where(CaseTask.case_id == case.id).order_by(CaseTask.due_at, CaseTask.id)
    )
    history = session.scalars(
        select(CaseChange).where(CaseChange.case_id == case.id).order_by(CaseChange.id)
    )
    return CaseDetail(
        **CaseRead.model_validate(case).model_dump(),
        alert_ids=alert_ids,
        tasks=[TaskRead.model_validate(t) for t in tasks],
        history=[CaseChangeRead.model_validate(h) for h in history],
    )
