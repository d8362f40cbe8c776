"""Read models of the TAXII server for the API, CLI and the other intel parts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApiRootRead",
    "CollectionRead",
    "MemberRead",
    "ObjectPage",
    "SeedReport",
    "TaxiiStatusRead",
]


class ApiRootRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    title: str
    description: str
    versions: list[str]
    max_content_length: int
    is_default: bool


class CollectionRead(BaseModel):
    """A collection with its defaults (`can_read`/`can_write` for members without a grant)."""

    uuid: str
    title: str
    description: str = ""
    api_root: str  # slug
    api_root_title: str
    alias: str | None = None
    topic: str = ""
    tlp: str | None = None
    multi_city: bool = True
    can_read: bool
    can_write: bool
    media_types: list[str] = Field(default_factory=list)
    object_count: int = 0  # stored object versions


class MemberRead(BaseModel):
    id: int
    username: str
    city: str
    api_roots: list[str]  # slugs; empty = every API root
    active: bool
    grants: dict[str, dict[str, bool]] = Field(default_factory=dict)  # uuid -> read/write


class TaxiiStatusRead(BaseModel):
    """The TAXII status resource of one add-objects request (`as_taxii()` is its wire form)."""

    id: str
    status: str
    request_timestamp: datetime
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    successes: list[dict[str, Any]]
    failures: list[dict[str, Any]]
    pendings: list[dict[str, Any]]

    def as_taxii(self) -> dict[str, Any]:
        from civicshield.intel.taxii.stix import format_timestamp

        body = self.model_dump()
        body["request_timestamp"] = format_timestamp(self.request_timestamp)
        return body


class ObjectPage(BaseModel):
    """One page of objects, manifest records or versions, with the date-added range shown in
    the X-TAXII-Date-Added-First/Last headers (None when the page is empty)."""

    items: list[Any]
    more: bool
    next: str | None = None
    first_added: str | None = None
    last_added: str | None = None


class SeedReport(BaseModel):
    """What `seed` loaded; `problems` are (JSON path, reason) of the entries left out."""

    api_roots: int = 0
    collections: int = 0
    objects: int = 0
    statuses: int = 0
    members: int = 0
    grants: int = 0
    discovery: dict[str, Any] = Field(default_factory=dict)
    problems: list[tuple[str, str]] = Field(default_factory=list)
