"""Suppression rules: "matches of this rule (or any rule) with these field values raise no
alert", with a reason, an author and usually an expiry. Applied to each batch's matches as one
Polars filter; each rule counts what it suppressed."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.alerts.models import Alert, Suppression
from civicshield.alerts.schemas import SuppressionCreate, SuppressionRead
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import FieldError, Invalid, NotFound

__all__ = [
    "SUPPRESSIBLE_FIELDS",
    "apply_suppressions",
    "create_suppression",
    "delete_suppression",
    "list_suppressions",
    "similar_to",
]

# What a suppression may compare (the alert's key and context fields, and its dataset).
SUPPRESSIBLE_FIELDS = (
    "host.name",
    "source.ip",
    "user.name",
    "destination.ip",
    "destination.port",
    "event.dataset",
)


def _active(session: Session, now: datetime) -> list[Suppression]:
    return list(
        session.scalars(
            select(Suppression).where(
                Suppression.active.is_(True),
                or_(Suppression.expires_at.is_(None), Suppression.expires_at > now),
            )
        )
    )


def apply_suppressions(
    session: Session, frame: pl.DataFrame, *, clock: Clock
) -> tuple[pl.DataFrame, int]:
    """`frame` without the suppressed matches, and how many there were."""
    rules = _active(session, clock.now())
    if not rules or frame.height == 0:
        return frame, 0
    hit = pl.lit(False)
    conditions = []
    for rule in rules:
        cond = pl.lit(True)
        if rule.rule_id:
            cond = cond & (pl.col("rule_id") == rule.rule_id)
        for name, value in rule.match.items():
            column = pl.col(name).cast(pl.String)
            if name == "host.name":
                value = value.lower()
            cond = cond & (column == value).fill_null(False)
        conditions.append(cond)
        hit = hit | cond
    flags = frame.select(*(c.alias(f"_s{i}") for i, c in enumerate(conditions)))
    now = clock.now()
    for rule, name in zip(rules, flags.columns, strict=True):
        count = int(flags.get_column(name).sum())
        if count:
            rule.hits += count
            rule.last_hit_at = now
    kept = frame.filter(~hit)
    return kept, frame.height - kept.height


def _check(data: SuppressionCreate, now: datetime) -> None:
    errors = []
    unknown = sorted(set(data.match) - set(SUPPRESSIBLE_FIELDS))
    if unknown:
        allowed = ", ".join(SUPPRESSIBLE_FIELDS)
        errors.append(FieldError(("body", "match"), f"unknown field(s) {unknown}; use {allowed}"))
    if not data.match and not data.rule_id:
        errors.append(
            FieldError(("body", "match"), "name a rule or at least one field: it would hide all")
        )
    if not data.reason.strip():
        errors.append(FieldError(("body", "reason"), "say why these matches are suppressed"))
    if data.expires_at is not None and data.expires_at <= now:
        errors.append(
            FieldError(("body", "expires_at"), f"the expiry must be after {now:%Y-%m-%d %H:%M} UTC")
        )
    if errors:
        raise Invalid("the suppression is not valid", errors)


def create_suppression(
    session: Session, data: SuppressionCreate, *, actor: Actor, clock: Clock
) -> SuppressionRead:
    now = clock.now()
    _check(data, now)
    title = ""
    if data.rule_id:
        title = (
            session.scalar(select(Alert.rule_title).where(Alert.rule_id == data.rule_id).limit(1))
            or ""
        )
    row = Suppression(
        rule_id=data.rule_id,
        rule_title=title,
        match={k: str(v) for k, v in data.match.items()},
        reason=data.reason.strip(),
        author=actor.label,
        author_id=actor.user_id,
        created_at=now,
        expires_at=data.expires_at,
        active=True,
        hits=0,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alert.suppression.create",
        entity_type="alert_suppression",
        entity_id=row.id,
        clock=clock,
        summary=f"suppress {data.rule_id or 'any rule'} where {row.match}: {row.reason}",
    )
    return SuppressionRead.model_validate(row)


def delete_suppression(
    session: Session, suppression_id: int, *, actor: Actor, clock: Clock
) -> None:
    """Deactivate (kept for the record: who suppressed what, and how much it hid)."""
    row = session.get(Suppression, suppression_id)
    if row is None or not row.active:
        raise NotFound(f"suppression {suppression_id} does not exist or is already removed")
    row.active = False
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="alert.suppression.delete",
        entity_type="alert_suppression",
        entity_id=row.id,
        clock=clock,
        summary=f"removed suppression of {row.rule_id or 'any rule'} where {row.match}",
    )


def list_suppressions(
    session: Session, *, clock: Clock, include_inactive: bool = False
) -> list[SuppressionRead]:
    if include_inactive:
        rows = list(session.scalars(select(Suppression).order_by(Suppression.id.desc())))
    else:
        rows = sorted(_active(session, clock.now()), key=lambda r: -r.id)
    return [SuppressionRead.model_validate(r) for r in rows]


def similar_to(alert: Alert) -> dict[str, str]:
    """The fields "suppress similar" proposes for an alert: its key fields and dataset."""
    return {**alert.key_fields, "event.dataset": alert.dataset}
