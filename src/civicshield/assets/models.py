"""Inventory tables: one row per asset, and its change history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicshield.store import Base, UTCDateTime

__all__ = ["Asset", "AssetChange", "Software"]


class Asset(Base):
    """A device or system of the city. Identifier lists (IPs, MACs, hostnames) are stored
    normalised, so merging compares like with like."""

    __tablename__ = "asset"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32), index=True)
    zone: Mapped[str] = mapped_column(String(100), index=True, default="")
    kind: Mapped[str] = mapped_column(String(8), index=True)
    vendor: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[str] = mapped_column(String(100), default="")
    serial: Mapped[str | None] = mapped_column(String(200), index=True)
    cpe: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(500))
    ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    macs: Mapped[list[str]] = mapped_column(JSON, default=list)
    hostnames: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(300), default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200), default="")
    criticality: Mapped[int] = mapped_column(Integer, index=True, default=3)
    internet_exposed: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    lifecycle: Mapped[str] = mapped_column(String(16), index=True, default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AssetChange(Base):
    """One changed field of one asset: who, when, old and new value (JSON, lists included)."""

    __tablename__ = "asset_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[Any] = mapped_column(JSON, nullable=True)
    new: Mapped[Any] = mapped_column(JSON, nullable=True)


class Software(Base):
    """A component found on an asset (from an SBOM, a scan or by hand): what it is, which version,
    and the identifiers vulnerability matching uses (CPE 2.3, purl)."""

    __tablename__ = "asset_software"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("asset.id", ondelete="CASCADE"), index=True)
    # The de-duplication key within an asset: purl, else CPE, else kind:vendor:name:version.
    key: Mapped[str] = mapped_column(String(600))
    kind: Mapped[str] = mapped_column(String(32), default="application")
    vendor: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str] = mapped_column(String(200), default="")
    cpe: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(600))
    source: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("asset_id", "key", name="uq_asset_software_asset_key"),)
