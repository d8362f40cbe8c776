"""Reading alerts: the queue grouped by rule, a filtered page, one alert with its events,
history and "suppress similar" proposal. A sector operator sees only alerts of their sectors
(`scope`); alerts without an asset have no sector and are shown to city-wide roles only."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from civicshield.alerts.models import Alert, AlertBatch, AlertChange, AlertEvent
from civicshield.alerts.schemas import (
    AlertChangeRead,
    AlertDetail,
    AlertEventRead,
    AlertFilter,
    AlertGroup,
    AlertPage,
    AlertRead,
)
from civicshield.alerts.suppress import similar_to
from civicshield.core.enums import Sector, Severity
from civicshield.core.errors import NotFound

__all__ = [
    "Scope",
    "alert_counts",
    "get_alert",
    "list_alerts",
    "list_groups",
    "load_alert",
]

Scope = frozenset[Sector] | None
_GROUP_IDS = 500  # alert ids carried per group row (for bulk actions on a whole group)


def load_alert(session: Session, alert_id: int, scope: Scope = None) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or (scope is not None and alert.sector not in {s.value for s in scope}):
        raise NotFound(f"alert {alert_id} does not exist")
    return alert


def _filtered(stmt: Any, chosen: AlertFilter, scope: Scope) -> Any:
    if scope is not None:
        stmt = stmt.where(Alert.sector.in_([s.value for s in scope]))
    if chosen.since:
        stmt = stmt.where(Alert.last_seen >= chosen.since)
    if chosen.until:
        stmt = stmt.where(Alert.first_seen <= chosen.until)
    levels = [s.value for s in chosen.severities]
    if chosen.min_severity is not None:
        levels = [
            s.value
            for s in Severity
            if s.rank >= chosen.min_severity.rank and (not levels or s.value in levels)
        ]
    if levels:
        stmt = stmt.where(Alert.severity.in_(levels))
    if chosen.sectors:
        stmt = stmt.where(Alert.sector.in_([s.value for s in chosen.sectors]))
    if chosen.datasets:
        stmt = stmt.where(Alert.dataset.in_(chosen.datasets))
    if chosen.statuses:
        stmt = stmt.where(Alert.status.in_([s.value for s in chosen.statuses]))
    if chosen.technique:
        stmt = stmt.where(cast(Alert.techniques, String).like(f'%"{chosen.technique.upper()}%'))
    if chosen.tactic:
        stmt = stmt.where(cast(Alert.tactics, String).like(f'%"{chosen.tactic.lower()}"%'))
    if chosen.rule_id:
        stmt = stmt.where(Alert.rule_id == chosen.rule_id)
    if chosen.asset_id is not None:
        stmt = stmt.where(Alert.asset_id == chosen.asset_id)
    if chosen.q:
        like = f"%{chosen.q.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Alert.rule_title).like(like),
                func.lower(Alert.asset_name).like(like),
                func.lower(cast(Alert.key_fields, String)).like(like),
                func.lower(Alert.dataset).like(like),
            )
        )
    return stmt


def list_alerts(
    session: Session,
    chosen: AlertFilter | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
    scope: Scope = None,
) -> AlertPage:
    """Alerts newest first (by last event), filtered."""
    chosen = chosen or AlertFilter()
    stmt = _filtered(select(Alert), chosen, scope)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Alert.last_seen.desc(), Alert.id.desc()).limit(limit).offset(offset)
    )
    return AlertPage(
        items=[AlertRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def list_groups(
    session: Session, chosen: AlertFilter | None = None, *, scope: Scope = None
) -> list[AlertGroup]:
    """The queue: one row per rule with its alert and event counts, newest event first."""
    chosen = chosen or AlertFilter()
    stmt = _filtered(
        select(
            Alert.id,
            Alert.rule_id,
            Alert.rule_title,
            Alert.severity,
            Alert.count,
            Alert.last_seen,
            Alert.status,
            Alert.techniques,
        ),
        chosen,
        scope,
    ).order_by(Alert.last_seen.desc())
    groups: dict[str, dict[str, Any]] = {}
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for alert_id, rule_id, title, severity, count, last, status, techniques in session.execute(
        stmt
    ):
        group = groups.get(rule_id)
        if group is None:
            group = groups[rule_id] = {
                "rule_id": rule_id,
                "rule_title": title,
                "severity": severity,
                "alerts": 0,
                "events": 0,
                "newest": last if last.tzinfo else last.replace(tzinfo=UTC),
                "techniques": list(techniques or []),
                "alert_ids": [],
            }
        group["alerts"] += 1
        group["events"] += count
        if len(group["alert_ids"]) < _GROUP_IDS:
            group["alert_ids"].append(alert_id)
        statuses[rule_id][status] += 1
    return [AlertGroup(**g, statuses=dict(statuses[r])) for r, g in groups.items()]


def get_alert(session: Session, alert_id: int, *, scope: Scope = None) -> AlertDetail:
    alert = load_alert(session, alert_id, scope)
    events = session.scalars(
        select(AlertEvent)
        .where(AlertEvent.alert_id == alert.id)
        .order_by(AlertEvent.event_time, AlertEvent.id)
    )
    changes = session.scalars(
        select(AlertChange).where(AlertChange.alert_id == alert.id).order_by(AlertChange.id)
    )
    batches = session.scalar(select(func.count()).where(AlertBatch.alert_id == alert.id)) or 0
    base = AlertRead.model_validate(alert).model_dump()
    return AlertDetail(
        **base,
        events=[AlertEventRead.model_validate(e) for e in events],
        changes=[AlertChangeRead.model_validate(c) for c in changes],
        batches=batches,
        similar=similar_to(alert),
    )


def alert_counts(
    session: Session, *, since: datetime | None = None, scope: Scope = None
) -> dict[str, int]:
    """Open alerts by severity (for the dashboard and health)."""
    stmt = select(Alert.severity, func.count()).where(Alert.status != "closed")
    if since is not None:
        stmt = stmt.where(Alert.last_seen >= since)
    if scope is not None:
        stmt = stmt.where(Alert.sector.in_([s.value for s in scope]))
    return {str(sev): int(n) for sev, n in session.execute(stmt.group_by(Alert.severity)).all()}
