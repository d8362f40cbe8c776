"""Audit log read models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["AuditEntryRead", "AuditPage", "ChainReport"]


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    at: datetime
    actor: str
    actor_id: int | None
    ip: str | None
    action: str
    entity_type: str
    entity_id: str
    summary: str
    changes: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    total: int
    limit: int
    offset: int


class ChainReport(BaseModel):
    """Result of `verify_chain`: ok, or the first place where the chain breaks and why."""

    ok: bool
    checked: int
    head_seq: int
    broken_at: int | None = None
    reason: str | None = None
