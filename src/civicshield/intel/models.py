"""Intel tables: every STIX object version as imported, the current indicators derived from
them, where they came from, and the MISP warninglists that suppress known false positives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = ["IntelIndicator", "IntelObject", "IntelSource", "IntelWarninglist"]


class IntelSource(Base):
    """Where objects came from: a STIX file, a MISP feed or event, a CSV list, or by hand.
    `state` keeps what an incremental pull needs (a MISP feed: event uuid -> timestamp)."""

    __tablename__ = "intel_source"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("kind", "location", name="uq_intel_source_kind_location"),)


class IntelObject(Base):
    """One version of one STIX object, kept exactly as imported (`body`); the columns are the
    common properties, for filtering. The current version is the one with the latest
    `modified` (objects without `modified`, such as SCOs, have one version)."""

    __tablename__ = "intel_object"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(300), index=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    spec_version: Mapped[str] = mapped_column(String(8), default="2.1")
    created: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The version key; a sentinel "" for objects without `modified` (SCOs, markings).
    modified_key: Mapped[str] = mapped_column(String(40))
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confidence: Mapped[int | None] = mapped_column(Integer)
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_ref: Mapped[str | None] = mapped_column(String(300))
    object_marking_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_source.id", ondelete="SET NULL"), index=True
    )
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("stix_id", "modified_key", name="uq_intel_object_stix_id_modified"),
    )


class IntelIndicator(Base):
    """The current version of one indicator, ready for matching: its compiled lookups (or why
    it cannot be matched), TLP, expiry after ageing and warninglist suppression."""

    __tablename__ = "intel_indicator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stix_id: Mapped[str] = mapped_column(String(300), unique=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("intel_object.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(500), default="")
    pattern: Mapped[str] = mapped_column(Text)
    pattern_type: Mapped[str] = mapped_column(String(32))
    # The first lookup's kind ("ipv4", "domain", …) or "" when not matchable; for filtering.
    kind: Mapped[str] = mapped_column(String(16), index=True, default="")
    lookups: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    not_matchable: Mapped[str] = mapped_column(Text, default="")
    tlp: Mapped[str | None] = mapped_column(String(16), index=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    suppressed_by: Mapped[str | None] = mapped_column(String(200))
    suppressed_entry: Mapped[str | None] = mapped_column(String(500))
    modified: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class IntelWarninglist(Base):
    """A MISP warninglist (`list.json`): known benign values that must not raise alerts."""

    __tablename__ = "intel_warninglist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    type: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text, default="")
    matching_attributes: Mapped[list[str]] = mapped_column(JSON, default=list)
    entries: Mapped[list[str]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
