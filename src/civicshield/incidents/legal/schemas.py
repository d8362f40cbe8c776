"""Inputs and records of the legal clocks on a case (start events, assessments, holds,
reminders); the computed views are in `views.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssessmentCreate",
    "AssessmentRead",
    "ClockRead",
    "ClockStart",
    "ClockSuggestion",
    "ClockWithdraw",
    "HoldCreate",
    "HoldRead",
    "ReminderRead",
    "StartEventCreate",
    "StartEventRead",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ClockStart(_In):
    obligation_id: str = Field(max_length=100, description="e.g. qc-a21.cai, gdpr.art33.")


class ClockWithdraw(_In):
    reason: str = Field(max_length=5000, description="Kept with the clock (required).")


class ClockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    obligation_id: str
    profile_version: str
    policy: str
    target_hours: float | None
    added_at: datetime
    added_by: str
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdrawn_reason: str


class ClockSuggestion(BaseModel):
    """A clock the case's playbook may start, with its condition; `started` when it runs."""

    obligation_id: str
    condition: str
    note: dict[str, str]
    started: bool


class StartEventCreate(_In):
    kind: str = Field(max_length=32, description="cause_to_believe, became_aware, ...")
    at: str = Field(
        min_length=1,
        max_length=64,
        description="ISO 8601: UTC or with its offset, or a local wall time with `zone`.",
    )
    zone: str | None = Field(default=None, max_length=64, description="IANA zone of `at`.")
    obligation_id: str | None = Field(default=None, max_length=100, description="Scope.")
    note: str = Field(default="", max_length=5000)
    corrects: int | None = Field(default=None, description="The start event this one corrects.")
    accept_earlier: bool = Field(
        default=False, description="In a DST overlap or gap, keep the earlier instant (flagged)."
    )


class StartEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    kind: str
    obligation_id: str | None
    at: datetime
    zone: str
    note: str
    corrects: int | None
    recorded_at: datetime
    recorded_by: str
    corrected_by: int | None = None  # the later row that corrects this one


class AssessmentCreate(_In):
    requirement: str = Field(max_length=64, description="e.g. risk_of_serious_injury.")
    met: bool = Field(description="True: the condition holds and the obligation applies.")
    factors: dict[str, str] = Field(
        default_factory=dict,
        description="e.g. sensitivity, consequences, likelihood (Québec A-2.1 s. 63.9).",
    )
    reasoning: str = Field(max_length=20_000, description="Required, even for a no.")
    consulted: str = Field(default="", max_length=300, description="e.g. the privacy officer.")


class AssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    requirement: str
    met: bool
    factors: dict[str, Any]
    reasoning: str
    consulted: str
    assessed_at: datetime
    assessed_by: str


class HoldCreate(_In):
    obligation_id: str | None = Field(
        default=None, max_length=100, description="One clock; none: every suspendable clock."
    )
    reason: str = Field(max_length=5000, description="Required.")
    authority: str = Field(max_length=300, description="Who asked for the hold (required).")
    review_on: date = Field(description="When the hold is to be reviewed.")
    start: datetime | None = Field(default=None, description="Default: now.")


class HoldRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    obligation_id: str | None
    start: datetime
    end: datetime | None
    reason: str
    authority: str
    review_on: str
    recorded_at: datetime
    recorded_by: str
    lifted_by: str


class ReminderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    obligation_id: str
    level: int
    reason: str
    due_at: datetime
    raised_at: datetime
    channels: list[str]
    emailed_to: list[str]
    acknowledged_at: datetime | None
    acknowledged_by: str
