"""What the intel domain hands to adapters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "INDICATOR_STATES",
    "IndicatorDetail",
    "IndicatorFilter",
    "IndicatorPage",
    "IndicatorRead",
    "IndicatorSighting",
    "ProvenanceRead",
    "SourceRead",
    "VersionRead",
    "WarninglistRead",
]

# Why an indicator is or is not used, the first reason winning: each indicator has one state.
INDICATOR_STATES = ("active", "expired", "revoked", "suppressed", "not_matchable")


class IndicatorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    stix_id: str
    name: str
    pattern: str
    pattern_type: str
    kind: str
    lookups: list[list[Any]]
    not_matchable: str
    tlp: str | None
    revoked: bool
    valid_from: datetime | None
    expires_at: datetime | None
    modified: datetime | None
    suppressed_by: str | None
    suppressed_entry: str | None
    active: bool = False
    state: str = ""


class VersionRead(BaseModel):
    """One stored version of a STIX object and where it was first stored from."""

    modified: datetime | None
    imported_at: datetime
    revoked: bool
    source_id: int | None
    source_kind: str | None
    source_name: str | None


class IndicatorSighting(BaseModel):
    """The current version of a STIX `sighting` of an indicator. `where_sighted` gives the
    names of the identities and locations in `where_sighted_refs` that the store holds."""

    stix_id: str
    count: int | None
    first_seen: datetime | None
    last_seen: datetime | None
    where_sighted_refs: list[str]
    where_sighted: list[str]
    created_by_ref: str | None
    modified: datetime | None
    source_name: str | None
    versions: int = 1
    tlp: str | None = None


class ProvenanceRead(BaseModel):
    """One receipt of a version: when, from which source, and what the sender said."""

    received_at: datetime
    modified: datetime | None
    source_id: int | None
    source_kind: str | None
    source_name: str | None
    source_location: str | None
    detail: dict[str, Any]


class IndicatorDetail(IndicatorRead):
    """The indicator with the properties of its current version, every stored version
    (`versions`: the STIX JSON, newest first; `history`: when and where from), its sightings
    and its provenance."""

    versions: list[dict[str, Any]]
    description: str = ""
    confidence: int | None = None
    labels: list[str] = Field(default_factory=list)
    kill_chain_phases: list[dict[str, Any]] = Field(default_factory=list)
    external_references: list[dict[str, Any]] = Field(default_factory=list)
    created_by_ref: str | None = None
    created_by: str | None = None
    valid_until: datetime | None = None
    history: list[VersionRead] = Field(default_factory=list)
    sightings: list[IndicatorSighting] = Field(default_factory=list)
    sighting_count: int = 0
    provenance: list[ProvenanceRead] = Field(default_factory=list)


class IndicatorPage(BaseModel):
    items: list[IndicatorRead]
    total: int
    limit: int
    offset: int
    # Indicators per state under the other filters (the state filter aside).
    counts: dict[str, int] = Field(default_factory=dict)


class IndicatorFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    active: bool | None = None
    state: str | None = Field(default=None, pattern="^(" + "|".join(INDICATOR_STATES) + ")$")
    tlp: str | None = None
    source_id: int | None = None
    q: str | None = None


class SourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    name: str
    location: str
    counts: dict[str, int]
    last_error: str
    created_at: datetime
    last_import_at: datetime | None


class WarninglistRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    version: int
    type: str
    description: str
    entries: int
    loaded_at: datetime
