"""TAXII 2.1 server tables: API roots (one per trust group of cities), their collections,
the members (peer cities' accounts) with per-collection read/write, the object versions in
each collection, and the status resources of add-objects requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = [
    "TaxiiApiRoot",
    "TaxiiCollection",
    "TaxiiEntry",
    "TaxiiGrant",
    "TaxiiMember",
    "TaxiiStatus",
]


class TaxiiApiRoot(Base):
    """An API root, served at `/taxii2/<slug>/`."""

    __tablename__ = "taxii_api_root"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    versions: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_content_length: Mapped[int] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaxiiCollection(Base):
    """A collection. `can_read`/`can_write` apply to every member of the API root unless a
    grant says otherwise (medallion's model, extended per member). `multi_city` collections
    are read by more than one city: TLP:RED and TLP:AMBER+STRICT never go there."""

    __tablename__ = "taxii_collection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    api_root_id: Mapped[int] = mapped_column(
        ForeignKey("taxii_api_root.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    alias: Mapped[str | None] = mapped_column(String(100))
    media_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    can_read: Mapped[bool] = mapped_column(Boolean, default=True)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)
    topic: Mapped[str] = mapped_column(String(100), default="")
    tlp: Mapped[str | None] = mapped_column(String(16))  # the most restrictive TLP it may hold
    multi_city: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("api_root_id", "alias", name="uq_taxii_collection_alias"),)


class TaxiiMember(Base):
    """A TAXII account (HTTP Basic): usually one per peer city. `api_root_ids` empty means
    every API root."""

    __tablename__ = "taxii_member"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    city: Mapped[str] = mapped_column(String(200), default="")
    api_root_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TaxiiGrant(Base):
    """One member's read/write on one collection, overriding the collection's defaults."""

    __tablename__ = "taxii_grant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("taxii_member.id", ondelete="CASCADE"))
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("taxii_collection.id", ondelete="CASCADE"), index=True
    )
    can_read: Mapped[bool] = mapped_column(Boolean, default=False)
    can_write: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (UniqueConstraint("member_id", "collection_id", name="uq_taxii_grant"),)


class TaxiiEntry(Base):
    """One version of one object in one collection, as added (`body`). `version` is the
    object's `modified` (else `created`, else the date added) in STIX timestamp form;
    `date_added` has microseconds, as TAXII requires, and orders paging with `id`."""

    __tablename__ = "taxii_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("taxii_collection.id", ondelete="CASCADE"), index=True
    )
    stix_id: Mapped[str] = mapped_column(String(300), index=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[str] = mapped_column(String(40))
    # `version` as a time, so SQL can choose an object's first or last version (the text does
    # not sort: "…59Z" and "…59.000Z" are the same instant).
    version_at: Mapped[datetime] = mapped_column(UTCDateTime())
    spec_version: Mapped[str] = mapped_column(String(8), default="2.1")
    media_type: Mapped[str] = mapped_column(String(100))
    date_added: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    added_by: Mapped[str] = mapped_column(String(150), default="")
    body: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("collection_id", "stix_id", "version", name="uq_taxii_entry_version"),
        Index("ix_taxii_entry_page", "collection_id", "date_added", "id"),
        # an object's versions, for choosing its first or last one in SQL
        Index("ix_taxii_entry_object", "collection_id", "stix_id", "spec_version", "version_at"),
    )


class TaxiiStatus(Base):
    """The status resource of one add-objects request."""

    __tablename__ = "taxii_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    api_root_id: Mapped[int] = mapped_column(
        ForeignKey("taxii_api_root.id", ondelete="CASCADE"), index=True
    )
    requested_by: Mapped[str] = mapped_column(String(150), default="")
    status: Mapped[str] = mapped_column(String(16))  # pending | complete
    request_timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    success_count: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    pending_count: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    pendings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
