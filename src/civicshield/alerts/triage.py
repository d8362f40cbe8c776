"""A person's triage of alerts: acknowledge, escalate, close with a resolution, reopen, and undo
the last step. One or many alerts at once; each step is kept (`AlertChange`) and audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.alerts.enums import TRANSITIONS, AlertStatus, Resolution
from civicshield.alerts.models import Alert, AlertChange
from civicshield.alerts.queries import Scope, load_alert
from civicshield.alerts.schemas import AlertChangeRead
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound

__all__ = ["ACTIONS", "TriageResult", "triage", "undo", "undo_steps"]

ACTIONS = {
    "acknowledge": AlertStatus.ACKNOWLEDGED,
    "escalate": AlertStatus.ESCALATED,
    "close": AlertStatus.CLOSED,
    "reopen": AlertStatus.NEW,
}
_TRACKED = ("status", "resolution", "status_reason", "status_by", "status_at")

TriageResult = dict[str, list[int]]


def _state(alert: Alert) -> dict[str, Any]:
    value = {k: getattr(alert, k) for k in _TRACKED}
    value["status_at"] = alert.status_at.isoformat() if alert.status_at else None
    return value


def triage(
    session: Session,
    alert_ids: Sequence[int],
    action: str,
    *,
    resolution: Resolution | None = None,
    reason: str = "",
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> TriageResult:
    """Apply `action` to every alert; returns {"changed": [alert ids], "unchanged": [alert
    ids], "steps": [the new step ids, for `undo_steps`]}.
    Raises `Invalid` for a bad request and `Conflict` naming the alerts whose status cannot move
    that way (nothing is changed then)."""
    target = ACTIONS.get(action)
    if target is None:
        raise Invalid(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    reason = reason.strip()
    if target is AlertStatus.CLOSED and resolution is None:
        raise Invalid(
            "closing needs a resolution",
            [
                FieldError(
                    ("body", "resolution"), "choose " + ", ".join(r.value for r in Resolution)
                )
            ],
        )
    if target is not AlertStatus.CLOSED and resolution is not None:
        raise Invalid(
            "only closing takes a resolution", [FieldError(("body", "resolution"), "remove it")]
        )
    if len(reason) > 2000:
        raise Invalid(
            "the reason is too long", [FieldError(("body", "reason"), "at most 2,000 characters")]
        )
    alerts = [load_alert(session, i, scope) for i in dict.fromkeys(alert_ids)]
    stuck = [
        a.id
        for a in alerts
        if a.status != target.value and target not in TRANSITIONS[AlertStatus(a.status)]
    ]
    if stuck:
        raise Conflict(
            f"alert(s) {', '.join(map(str, stuck))} cannot be set to {target.value} "
            "from their status"
        )
    now = clock.now()
    result: TriageResult = {"changed": [], "unchanged": [], "steps": []}
    steps: list[AlertChange] = []
    for alert in alerts:
        before = _state(alert)
        alert.status = target.value
        alert.resolution = resolution.value if resolution else None
        alert.status_reason = reason
        decided = ("status", "resolution", "status_reason")
        if all(getattr(alert, k) == before[k] for k in decided):
            result["unchanged"].append(alert.id)
            continue
        alert.status_by, alert.status_at, alert.updated_at = actor.label, now, now
        step = AlertChange(
            alert_id=alert.id,
            at=now,
            actor=actor.label,
            actor_id=actor.user_id,
            action=action,
            before=before,
            after=_state(alert),
            reason=reason,
        )
        session.add(step)
        steps.append(step)
        result["changed"].append(alert.id)
    session.flush()
    result["steps"] = [step.id for step in steps]
    if result["changed"]:
        audit.record(
            session,
            actor=actor,
            action=f"alert.{action}",
            entity_type="alert",
            entity_id=",".join(map(str, result["changed"]))[:200],
            clock=clock,
            summary=f"{action} {len(result['changed'])} alert(s)"
            + (f" as {resolution.value}" if resolution else "")
            + (f": {reason}" if reason else ""),
        )
    return result


def _last_step(session: Session, alert_id: int) -> AlertChange | None:
    return session.scalars(
        select(AlertChange)
        .where(AlertChange.alert_id == alert_id, AlertChange.undone.is_(False))
        .where(AlertChange.action != "undo")
        .order_by(AlertChange.id.desc())
        .limit(1)
    ).one_or_none()


def undo(
    session: Session, alert_id: int, *, actor: Actor, clock: Clock, scope: Scope = None
) -> AlertChangeRead:
    """Revert the alert's last triage step that is not undone yet; returns that step."""
    alert = load_alert(session, alert_id, scope)
    last = _last_step(session, alert.id)
    if last is None:
        raise NotFound(f"alert {alert_id} has no triage step to undo")
    return _revert(session, alert, last, actor=actor, clock=clock)


def undo_steps(
    session: Session, step_ids: Sequence[int], *, actor: Actor, clock: Clock, scope: Scope = None
) -> list[AlertChangeRead]:
    """Revert exactly these steps (what one bulk action did). A step is skipped when it is
    already undone, or when someone triaged its alert since (undoing it would overwrite their
    decision); returns the steps reverted."""
    reverted = []
    for step_id in dict.fromkeys(step_ids):
        step = session.get(AlertChange, step_id)
        if step is None or step.undone or step.action == "undo":
            continue
        try:
            alert = load_alert(session, step.alert_id, scope)
        except NotFound:
            continue
        last = _last_step(session, alert.id)
        if last is None or last.id != step.id:
            continue
        reverted.append(_revert(session, alert, step, actor=actor, clock=clock))
    return reverted


def _revert(
    session: Session, alert: Alert, last: AlertChange, *, actor: Actor, clock: Clock
) -> AlertChangeRead:
    before = _state(alert)
    for key in _TRACKED:
        if key != "status_at":
            setattr(alert, key, last.before.get(key))
    stamp = last.before.get("status_at")
    alert.status_at = datetime.fromisoformat(stamp) if stamp else None
    now = clock.now()
    alert.updated_at = now
    last.undone = True
    session.add(
        AlertChange(
            alert_id=alert.id,
            at=now,
            actor=actor.label,
            actor_id=actor.user_id,
            action="undo",
            before=before,
            after=_state(alert),
            reason=f"undo of step {last.id} ({last.action})",
        )
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alert.undo",
        entity_type="alert",
        entity_id=alert.id,
        clock=clock,
        summary=f"undid {last.action} by {last.actor}",
    )
    return AlertChangeRead.model_validate(last)
