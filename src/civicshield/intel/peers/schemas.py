"""What the peers part of the intel domain hands to adapters. Secrets never appear here:
a peer's read model says only whether a secret is set."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = [
    "PeerCreate",
    "PeerDetail",
    "PeerRead",
    "PullResult",
    "PushResult",
    "SubscriptionCreate",
    "SubscriptionRead",
]


class PeerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\s].*$")
    city: str = Field(default="", max_length=200)
    discovery_url: str = Field(min_length=8, max_length=1000, pattern=r"^https?://")
    auth: Literal["basic", "token", "none"] = "basic"
    username: str = Field(default="", max_length=150)
    secret: SecretStr = Field(default=SecretStr(""), description="Password or API token.")


class PeerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    city: str
    discovery_url: str
    auth: str
    username: str
    has_secret: bool
    approved_at: datetime | None
    approved_by: str | None
    last_probe: dict[str, Any]
    last_error: str
    created_at: datetime


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    peer_id: int
    api_root_url: str = Field(min_length=8, max_length=1000, pattern=r"^https?://")
    collection_id: str = Field(min_length=1, max_length=100)
    multi_city: bool = True
    pull: bool = True


class SubscriptionRead(BaseModel):
    id: int
    peer_id: int
    peer_name: str
    api_root_url: str
    collection_id: str
    collection_url: str
    title: str
    can_read: bool
    can_write: bool
    multi_city: bool
    pull: bool
    source_id: int | None
    added_after: str | None
    counts: dict[str, int]
    last_pull_at: datetime | None
    last_push_at: datetime | None
    last_error: str
    created_at: datetime


class PeerDetail(PeerRead):
    subscriptions: list[SubscriptionRead]


class PullResult(BaseModel):
    """One pull: pages and objects read, what the import did, the new `added_after`."""

    subscription_id: int
    ok: bool
    pages: int = 0
    read: int = 0
    new: int = 0
    new_versions: int = 0
    unchanged: int = 0
    refused: list[dict[str, str]] = Field(default_factory=list)
    added_after_before: str | None = None
    added_after: str | None = None
    error: str = ""


class PushResult(BaseModel):
    """A push's TAXII status: `complete` or still `pending` when our polling ended."""

    subscription_id: int
    status_id: str = ""
    status: str = ""
    total_count: int = 0
    success_count: int = 0
    failure_count: int = 0
    pending_count: int = 0
    failures: list[dict[str, Any]] = Field(default_factory=list)
    error: str = ""
