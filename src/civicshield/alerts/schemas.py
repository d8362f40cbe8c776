"""Alert shapes for the web, the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civicshield.alerts.enums import AlertStatus, Resolution
from civicshield.core.enums import Sector, Severity

__all__ = [
    "AlertChangeRead",
    "AlertDetail",
    "AlertEventRead",
    "AlertFilter",
    "AlertGroup",
    "AlertPage",
    "AlertRead",
    "SuppressionCreate",
    "SuppressionRead",
    "TriageRequest",
]


class AlertRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    rule_id: str
    rule_title: str
    rule_author: str
    rule_path: str
    severity: Severity
    tactics: list[str]
    techniques: list[str]
    dataset: str
    key_fields: dict[str, str]
    asset_id: int | None
    asset_name: str
    sector: Sector | None
    first_seen: datetime
    last_seen: datetime
    count: int
    status: AlertStatus
    resolution: Resolution | None
    status_reason: str
    status_by: str
    status_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AlertEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dataset: str
    event_time: datetime | None
    line: int | None
    source: str
    raw: str
    fields: dict[str, Any]


class AlertChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    reason: str
    undone: bool


class AlertDetail(AlertRead):
    events: list[AlertEventRead]
    changes: list[AlertChangeRead]
    batches: int
    similar: dict[str, str]


class AlertGroup(BaseModel):
    """The queue's rows: one per rule, with how many alerts and events, and the newest time."""

    rule_id: str
    rule_title: str
    severity: Severity
    alerts: int
    events: int
    newest: datetime
    statuses: dict[str, int]
    techniques: list[str]
    alert_ids: list[int]


class AlertPage(BaseModel):
    items: list[AlertRead]
    total: int
    limit: int
    offset: int


class AlertFilter(BaseModel):
    """Queue filters; empty means "any". `statuses` defaults to the open ones."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = None
    until: datetime | None = None
    severities: list[Severity] = Field(default_factory=list)
    min_severity: Severity | None = None
    sectors: list[Sector] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    statuses: list[AlertStatus] = Field(
        default_factory=lambda: [AlertStatus.NEW, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED]
    )
    technique: str | None = None
    tactic: str | None = None
    rule_id: str | None = None
    q: str | None = Field(default=None, max_length=200)
    asset_id: int | None = None


class TriageRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(pattern="^(acknowledge|escalate|close|reopen)$")
    alert_ids: list[int] = Field(min_length=1, max_length=1000)
    resolution: Resolution | None = None
    reason: str = Field(default="", max_length=2000)


class SuppressionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule_id: str = Field(default="", max_length=100)
    match: dict[str, str] = Field(default_factory=dict)
    reason: str = Field(max_length=2000)
    expires_at: datetime | None = None


class SuppressionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rule_id: str
    rule_title: str
    match: dict[str, str]
    reason: str
    author: str
    created_at: datetime
    expires_at: datetime | None
    active: bool
    hits: int
    last_hit_at: datetime | None
