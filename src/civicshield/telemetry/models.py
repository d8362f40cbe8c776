"""Saved hunts: a named Polars SQL query over the event store, private to its owner or shared
with everyone who may hunt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = ["SavedHunt"]


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
