"""Case shapes for the web, the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civicshield.core.enums import LabelledEnum, Sector, Severity, Tlp
from civicshield.core.i18n import N_

__all__ = [
    "CaseChangeRead",
    "CaseCreate",
    "CaseDetail",
    "CaseFromAlerts",
    "CasePage",
    "CaseRead",
    "CaseStatus",
    "CaseUpdate",
    "TaskRead",
]


class CaseStatus(LabelledEnum):
    """The response workflow (NIST SP 800-61 phases)."""

    NEW = ("new", N_("New"), "status-new")
    TRIAGE = ("triage", N_("Triage"), "status-triage")
    CONTAIN = ("contain", N_("Containment"), "status-contain")
    ERADICATE = ("eradicate", N_("Eradication"), "status-eradicate")
    RECOVER = ("recover", N_("Recovery"), "status-recover")
    CLOSED = ("closed", N_("Closed"), "status-closed")


class CaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=300)
    description: str = Field(default="", max_length=20_000)
    severity: Severity = Severity.MEDIUM
    tlp: Tlp = Tlp.AMBER
    pap: Tlp = Tlp.AMBER
    owner: str = Field(default="", max_length=200)
    team: list[str] = Field(default_factory=list, max_length=50)
    sectors: list[Sector] = Field(default_factory=list)
    asset_ids: list[int] = Field(default_factory=list, max_length=1000)
    techniques: list[str] = Field(default_factory=list, max_length=100)


class CaseFromAlerts(BaseModel):
    """Escalate alerts into a new case, or merge them into `case_id`."""

    model_config = ConfigDict(extra="forbid")

    alert_ids: list[int] = Field(min_length=1, max_length=1000)
    case_id: int | None = None
    title: str | None = Field(default=None, min_length=3, max_length=300)
    reason: str = Field(default="", max_length=2000)


class CaseUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=3, max_length=300)
    description: str | None = Field(default=None, max_length=20_000)
    severity: Severity | None = None
    tlp: Tlp | None = None
    pap: Tlp | None = None
    status: CaseStatus | None = None
    resolution: str | None = Field(default=None, max_length=5000)
    owner: str | None = Field(default=None, max_length=200)
    team: list[str] | None = Field(default=None, max_length=50)
    sectors: list[Sector] | None = None
    techniques: list[str] | None = Field(default=None, max_length=100)
    reason: str = Field(default="", max_length=2000, description="Kept in the history.")


class CaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    severity: Severity
    tlp: Tlp
    pap: Tlp
    status: CaseStatus
    resolution: str
    owner: str
    team: list[str]
    sectors: list[Sector]
    asset_ids: list[int]
    techniques: list[str]
    playbook_id: str
    playbook_version: str
    source: str
    opened_at: datetime
    first_event_at: datetime | None
    closed_at: datetime | None
    created_by: str
    updated_at: datetime


class CaseChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    field: str
    old: Any
    new: Any
    reason: str


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    phase: str
    title: str
    role: str
    owner: str
    checklist: list[dict[str, Any]]
    automated_action: str
    requires_approval: bool
    approved_by: str
    due_at: datetime | None
    status: str
    done_at: datetime | None
    done_by: str


class CaseDetail(CaseRead):
    alert_ids: list[int]
    tasks: list[TaskRead]
    history: list[CaseChangeRead]


class CasePage(BaseModel):
    items: list[CaseRead]
    total: int
    limit: int
    offset: int
