"""Alert tables: one alert per rule × key × time window (its dedup key), the micro-batches that
fed it (what makes writing it idempotent), sample events with their raw text, the history of
every triage change (for undo and audit), and suppression rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = ["Alert", "AlertBatch", "AlertChange", "AlertEvent", "Suppression"]


class Alert(Base):
    """What an analyst triages. `count` is the number of matching events over every batch
    (the sum of `AlertBatch.matches`); `first_seen`/`last_seen` are event times."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="sigma", index=True)
    rule_id: Mapped[str] = mapped_column(String(100), index=True)
    rule_title: Mapped[str] = mapped_column(String(500))
    rule_author: Mapped[str] = mapped_column(String(1000), default="")
    rule_path: Mapped[str] = mapped_column(String(1000), default="")
    severity: Mapped[str] = mapped_column(String(16), index=True)
    tactics: Mapped[list[str]] = mapped_column(JSON, default=list)
    techniques: Mapped[list[str]] = mapped_column(JSON, default=list)
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    key_fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("asset.id", ondelete="SET NULL"), index=True
    )
    asset_name: Mapped[str] = mapped_column(String(200), default="")
    sector: Mapped[str | None] = mapped_column(String(32), index=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    resolution: Mapped[str | None] = mapped_column(String(32))
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_by: Mapped[str] = mapped_column(String(200), default="")
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertBatch(Base):
    """One micro-batch's contribution to one alert. Writing the same batch again replaces its
    row instead of adding to the count: replays create no duplicates."""

    __tablename__ = "alert_batch"
    __table_args__ = (UniqueConstraint("alert_id", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(String(100))
    matches: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertEvent(Base):
    """A sample of the events behind an alert (the first ones, up to a bound), with where they
    are in the event store and their raw text."""

    __tablename__ = "alert_event"
    __table_args__ = (UniqueConstraint("alert_id", "batch_id", "ordinal"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(String(100))
    ordinal: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(100))
    event_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    line: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(500), default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AlertChange(Base):
    """One triage step on one alert: who, when, the fields before and after, and the reason.
    `undone_by` marks a step that a later undo reverted."""

    __tablename__ = "alert_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    undone: Mapped[bool] = mapped_column(Boolean, default=False)


class Suppression(Base):
    """Matches of `rule_id` (any rule when empty) whose fields equal every item of `match`
    raise no alert until `expires_at`; they are counted in `hits`."""

    __tablename__ = "alert_suppression"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(100), default="", index=True)
    rule_title: Mapped[str] = mapped_column(String(500), default="")
    match: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    last_hit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
