"""Intel tables: every STIX object version as imported, the current indicators derived from
them, where they came from, and the MISP warninglists that suppress known false positives."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = [
    "IntelIndicator",
    "IntelObject",
    "IntelPeer",
    "IntelProvenance",
    "IntelPublication",
    "IntelSource",
    "IntelSubscription",
    "IntelWarninglist",
]


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


class IntelProvenance(Base):
    """Every time an object version was received: from which source (a TAXII collection, a
    MISP feed, a file…), when, and what the sender said about it (`detail`: peer, collection
    URL, TAXII date_added, MISP event uuid)."""

    __tablename__ = "intel_provenance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(
        ForeignKey("intel_object.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_source.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IntelPeer(Base):
    """A peer city's TAXII server we read from and publish to. The secret (password or
    token) is kept encrypted (`secret_box`); `approved_at` is the human approval required
    before the first publication to this peer."""

    __tablename__ = "intel_peer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    city: Mapped[str] = mapped_column(String(200), default="")
    discovery_url: Mapped[str] = mapped_column(String(1000))
    auth: Mapped[str] = mapped_column(String(16), default="basic")  # basic | token | none
    username: Mapped[str] = mapped_column(String(150), default="")
    secret_box: Mapped[str] = mapped_column(Text, default="")
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(150))
    last_probe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntelSubscription(Base):
    """One peer collection we pull from and/or push to. Its `IntelSource` (kind "taxii")
    keeps the pull state (`added_after`) and the counts."""

    __tablename__ = "intel_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer_id: Mapped[int] = mapped_column(ForeignKey("intel_peer.id", ondelete="CASCADE"))
    api_root_url: Mapped[str] = mapped_column(String(1000))
    collection_id: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300), default="")
    can_read: Mapped[bool] = mapped_column(Boolean, default=False)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)
    multi_city: Mapped[bool] = mapped_column(Boolean, default=True)
    pull: Mapped[bool] = mapped_column(Boolean, default=True)
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_source.id", ondelete="SET NULL")
    )
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint(
            "peer_id", "api_root_url", "collection_id", name="uq_intel_subscription_target"
        ),
    )


class IntelPublication(Base):
    """A request to share objects: to one of our TAXII collections or to a peer's. The
    sharing policy runs when it is prepared: `prepared` is the bundle as it will leave,
    `changes` what was stripped or pseudonymised, `refusals` why objects were held back.
    Status: draft -> awaiting_approval (first publication to a peer) -> published, or
    refused / failed."""

    __tablename__ = "intel_publication"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(16))  # collection | peer
    collection_uuid: Mapped[str | None] = mapped_column(String(36))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("intel_subscription.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(24), index=True)
    requested_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    prepared: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    refusals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(150))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # TAXII status etc.
    error: Mapped[str] = mapped_column(Text, default="")
