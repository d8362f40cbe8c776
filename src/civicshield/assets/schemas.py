"""Pydantic models at the assets boundary (API bodies, CLI output, service results)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from civicshield.assets._normalise import (
    normalise_cpe,
    normalise_hostname,
    normalise_ip,
    normalise_mac,
    normalise_purl,
    normalise_tag,
    unique,
)
from civicshield.assets.enums import AssetKind, Lifecycle, criticality_label
from civicshield.core.enums import Sector

__all__ = [
    "EDITABLE_FIELDS",
    "AssetChangeRead",
    "AssetCreate",
    "AssetDetail",
    "AssetFilter",
    "AssetPage",
    "AssetRead",
    "AssetUpdate",
    "SoftwareItem",
    "SoftwarePlan",
    "SoftwareRead",
]

Criticality = Annotated[int, Field(ge=1, le=5, description="Impact on the city if lost, 1-5.")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class _Normalised(BaseModel):
    """Validators shared by create and update: identifiers are stored normalised."""

    @field_validator("ips", mode="after", check_fields=False)
    @classmethod
    def _ips(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else unique(normalise_ip(v) for v in value)

    @field_validator("macs", mode="after", check_fields=False)
    @classmethod
    def _macs(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else unique(normalise_mac(v) for v in value)

    @field_validator("hostnames", mode="after", check_fields=False)
    @classmethod
    def _hostnames(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else unique(normalise_hostname(v) for v in value)

    @field_validator("tags", mode="after", check_fields=False)
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({normalise_tag(v) for v in value})

    @field_validator("cpe", mode="before", check_fields=False)
    @classmethod
    def _cpe(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return normalise_cpe(value) if isinstance(value, str) else value

    @field_validator("purl", mode="before", check_fields=False)
    @classmethod
    def _purl(cls, value: Any) -> Any:
        value = _blank_to_none(value)
        return normalise_purl(value) if isinstance(value, str) else value

    @field_validator("serial", mode="before", check_fields=False)
    @classmethod
    def _serial(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator(
        "name",
        "zone",
        "vendor",
        "product",
        "version",
        "address",
        "owner",
        "contact",
        mode="before",
        check_fields=False,
    )
    @classmethod
    def _text(cls, value: Any) -> Any:
        return _strip(value)


class AssetCreate(_Normalised):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["cam-plaza-01"])
    sector: Sector
    kind: AssetKind
    zone: str = Field(default="", max_length=100, examples=["traffic-ot"])
    vendor: str = Field(default="", max_length=200, examples=["Hikvision"])
    product: str = Field(default="", max_length=200, examples=["DS-2CD2143G2-I"])
    version: str = Field(
        default="", max_length=100, description="Software or firmware version.", examples=["5.7.3"]
    )
    serial: str | None = Field(default=None, max_length=200)
    cpe: str | None = Field(default=None, max_length=500, description="CPE 2.3 formatted string.")
    purl: str | None = Field(default=None, max_length=500, description="Package URL.")
    ips: list[str] = Field(default_factory=list, max_length=64)
    macs: list[str] = Field(default_factory=list, max_length=64)
    hostnames: list[str] = Field(default_factory=list, max_length=64)
    address: str = Field(default="", max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    owner: str = Field(default="", max_length=200)
    contact: str = Field(default="", max_length=200)
    criticality: Criticality = 3
    internet_exposed: bool = False
    tags: list[str] = Field(default_factory=list, max_length=64)
    lifecycle: Lifecycle = Lifecycle.ACTIVE

    @model_validator(mode="after")
    def _both_coordinates(self) -> AssetCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class AssetUpdate(_Normalised):
    """Only the fields sent change; `null` clears serial, CPE, purl and coordinates."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    sector: Sector | None = None
    kind: AssetKind | None = None
    zone: str | None = Field(default=None, max_length=100)
    vendor: str | None = Field(default=None, max_length=200)
    product: str | None = Field(default=None, max_length=200)
    version: str | None = Field(default=None, max_length=100)
    serial: str | None = Field(default=None, max_length=200)
    cpe: str | None = Field(default=None, max_length=500)
    purl: str | None = Field(default=None, max_length=500)
    ips: list[str] | None = Field(default=None, max_length=64)
    macs: list[str] | None = Field(default=None, max_length=64)
    hostnames: list[str] | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=300)
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    owner: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=200)
    criticality: Criticality | None = None
    internet_exposed: bool | None = None
    tags: list[str] | None = Field(default=None, max_length=64)
    lifecycle: Lifecycle | None = None


# Fields an update may change, in display order (also the order of history rows).
EDITABLE_FIELDS: tuple[str, ...] = tuple(AssetCreate.model_fields)


class AssetRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    sector: Sector
    kind: AssetKind
    zone: str
    vendor: str
    product: str
    version: str
    serial: str | None
    cpe: str | None
    purl: str | None
    ips: list[str]
    macs: list[str]
    hostnames: list[str]
    address: str
    latitude: float | None
    longitude: float | None
    owner: str
    contact: str
    criticality: int
    internet_exposed: bool
    tags: list[str]
    lifecycle: Lifecycle
    created_at: datetime
    updated_at: datetime

    @property
    def criticality_label(self) -> str:
        return criticality_label(self.criticality)


class AssetChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    field: str = Field(description="The changed field, or `created` for the creation row.")
    old: Any
    new: Any


class SoftwareItem(_Normalised):
    """A component as an importer found it; `software_key` gives its identity on the asset."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(default="application", min_length=1, max_length=32)
    vendor: str = Field(default="", max_length=200)
    name: str = Field(min_length=1, max_length=300)
    version: str = Field(default="", max_length=200)
    cpe: str | None = Field(default=None, max_length=500, description="CPE 2.3 formatted string.")
    purl: str | None = Field(default=None, max_length=600, description="Package URL.")
    key: str | None = Field(
        default=None,
        max_length=600,
        description="Explicit identity (e.g. `service:tcp/22`); else purl, CPE, or "
        "`kind:vendor:name:version`.",
    )

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return _strip(value)

    @property
    def identity(self) -> str:
        if self.key:
            return self.key
        if self.purl:
            return self.purl
        if self.cpe:
            return self.cpe
        return f"{self.kind}:{self.vendor}:{self.name}:{self.version}".lower()


class SoftwareRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    kind: str
    vendor: str
    name: str
    version: str
    cpe: str | None
    purl: str | None
    source: str = Field(description="Where it was found, e.g. `nmap` or `cyclonedx:app`.")
    created_at: datetime
    updated_at: datetime


class SoftwarePlan(BaseModel):
    """What upserting a set of components on an asset does: each entry is the component as
    stored (old) and as imported (new), keyed like the history rows."""

    add: list[dict[str, Any]] = Field(default_factory=list)
    change: list[list[dict[str, Any]]] = Field(
        default_factory=list, description="[old, new] pairs."
    )
    remove: list[dict[str, Any]] = Field(
        default_factory=list, description="Components this source reported before, not now."
    )
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.add or self.change or self.remove)


class AssetDetail(AssetRead):
    history: list[AssetChangeRead] = Field(description="Changes, newest first.")
    software: list[SoftwareRead] = Field(
        default_factory=list, description="Components on the asset, by kind then name."
    )


class AssetPage(BaseModel):
    items: list[AssetRead]
    total: int
    limit: int
    offset: int


class AssetFilter(BaseModel):
    """List filters; every one given must hold (AND)."""

    sector: Sector | None = None
    zone: str | None = None
    kind: AssetKind | None = None
    min_criticality: int | None = Field(default=None, ge=1, le=5)
    internet_exposed: bool | None = None
    lifecycle: Lifecycle | None = None
    q: str | None = Field(default=None, max_length=100)
