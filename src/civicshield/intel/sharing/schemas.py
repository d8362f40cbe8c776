"""What the publish queue shows: a publication with its preview (the prepared bundle, every
change the policy made and every refusal with its reason)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["STATUSES", "ChangeRead", "PublicationRead", "PublicationTarget", "RefusedRead"]

STATUSES = ("draft", "awaiting_approval", "published", "refused", "rejected", "failed")


class PublicationTarget(BaseModel):
    """Exactly one: one of our TAXII collections (its uuid) or a peer subscription (its id)."""

    model_config = ConfigDict(extra="forbid")

    collection_uuid: str | None = Field(default=None, max_length=36)
    subscription_id: int | None = None

    @model_validator(mode="after")
    def _one(self) -> PublicationTarget:
        if (self.collection_uuid is None) == (self.subscription_id is None):
            raise ValueError("give exactly one of collection_uuid or subscription_id")
        return self


class ChangeRead(BaseModel):
    object_id: str
    property: str
    action: str
    rule: str
    detail: str = ""


class RefusedRead(BaseModel):
    object_id: str
    type: str
    reason: str
    rule: str


class PublicationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    target_kind: str
    collection_uuid: str | None
    subscription_id: int | None
    target_label: str = ""
    multi_city: bool = False
    requested_ids: list[str]
    object_count: int = 0
    changes: list[ChangeRead]
    refusals: list[RefusedRead]
    prepared: dict[str, Any] = Field(default_factory=dict)
    note: str
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    published_at: datetime | None
    result: dict[str, Any]
    error: str
