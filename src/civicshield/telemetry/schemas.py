"""Pydantic models at the saved-hunt boundary (API bodies, web forms, service results)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "MAX_SQL",
    "SavedHuntCreate",
    "SavedHuntPage",
    "SavedHuntRead",
    "SavedHuntUpdate",
]

MAX_SQL = 20_000
# Same alphabet as the event store's dataset directories (`detect.eventstore`).
_DATASET = r"^[a-z0-9_-][a-z0-9._-]*$"

Name = Annotated[str, Field(min_length=1, max_length=100, description="Unique per owner.")]
Description = Annotated[str, Field(max_length=1000)]
Sql = Annotated[
    str, Field(min_length=1, max_length=MAX_SQL, description="Polars SQL over `events`.")
]
Since = Annotated[
    str, Field(max_length=64, description="30d, 12h, 45m, an ISO date/time, or empty.")
]
Datasets = Annotated[
    list[Annotated[str, Field(max_length=100, pattern=_DATASET)]],
    Field(max_length=50, description="Only these datasets (empty: all)."),
]


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class _Stripped(BaseModel):
    @field_validator("name", "description", "sql", "since", mode="before", check_fields=False)
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        return _strip(value)

    @field_validator("datasets", mode="after", check_fields=False)
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(dict.fromkeys(value))


class SavedHuntCreate(_Stripped):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description = ""
    sql: Sql
    since: Since = ""
    datasets: Datasets = Field(default_factory=list)
    shared: bool = Field(default=False, description="Visible to everyone with events:read.")


class SavedHuntUpdate(_Stripped):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    sql: Sql | None = None
    since: Since | None = None
    datasets: Datasets | None = None
    shared: bool | None = None


class SavedHuntRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    sql: str
    since: str
    datasets: list[str]
    owner_id: int
    owner: str
    shared: bool
    created_at: datetime
    updated_at: datetime


class SavedHuntPage(BaseModel):
    items: list[SavedHuntRead]
    total: int
    limit: int
    offset: int
