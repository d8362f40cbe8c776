"""What the intel domain hands to adapters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = [
    "IndicatorDetail",
    "IndicatorFilter",
    "IndicatorPage",
    "IndicatorRead",
    "SourceRead",
    "WarninglistRead",
]


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


class IndicatorDetail(IndicatorRead):
    """The indicator and every stored version of its STIX object, newest first."""

    versions: list[dict[str, Any]]


class IndicatorPage(BaseModel):
    items: list[IndicatorRead]
    total: int
    limit: int
    offset: int


class IndicatorFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    active: bool | None = None
    tlp: str | None = None
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
