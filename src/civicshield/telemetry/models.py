"""Saved hunts (a named Polars SQL query over the event store, private to its owner or shared
with everyone who may hunt), the ingest sources with their health figures, and the receipts
that make a retried `POST /ingest` with an `Idempotency-Key` store nothing twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = ["IngestMinute", "IngestReceipt", "IngestSource", "SavedHunt"]


class SavedHunt(Base):
    """`since` is kept as typed ("7d", an ISO date or empty) so a saved hunt keeps meaning
    "the last week" each time it runs, not the week it was saved."""

    __tablename__ = "saved_hunt"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000), default="")
    sql: Mapped[str] = mapped_column(Text)
    since: Mapped[str] = mapped_column(String(64), default="")
    datasets: Mapped[list[str]] = mapped_column(JSON, default=list)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    owner: Mapped[str] = mapped_column(String(200))
    shared: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IngestSource(Base):
    """One input that sends events (an HTTP client per dataset, a syslog peer, a tailed file):
    its totals, the newest event and arrival, the lag from event time to alert, and how long
    it may stay silent before it raises an alert itself (`expected_interval_seconds`; None:
    learned from its own rhythm)."""

    __tablename__ = "ingest_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    dataset: Mapped[str] = mapped_column(String(100), index=True)
    expected_interval_seconds: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    events_total: Mapped[int] = mapped_column(BigInteger, default=0)
    quarantined_total: Mapped[int] = mapped_column(BigInteger, default=0)
    lag_seconds: Mapped[float | None] = mapped_column(Float)
    silent_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class IngestMinute(Base):
    """Events and quarantined records per source, dataset and minute (kept two days): the
    rates the health page shows per source and per dataset."""

    __tablename__ = "ingest_minute"
    __table_args__ = (UniqueConstraint("source_id", "dataset", "minute"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("ingest_source.id", ondelete="CASCADE"), index=True
    )
    dataset: Mapped[str] = mapped_column(String(100), default="", index=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    events: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)


class IngestReceipt(Base):
    """What one keyed `POST /ingest/{dataset}` answered, kept `ingest_idempotency_hours`: a
    retry with the same key (per sender) and body gets this answer again and stores nothing.
    `response` is null only inside the transaction that is taking the body."""

    __tablename__ = "ingest_receipt"
    __table_args__ = (UniqueConstraint("sender", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(150))
    key: Mapped[str] = mapped_column(String(255))
    dataset: Mapped[str] = mapped_column(String(100))
    body_sha256: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
