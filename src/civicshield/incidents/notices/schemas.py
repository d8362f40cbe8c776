"""What notices and register entries look like to the adapters (API, web, CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CHANNELS",
    "LANGUAGES",
    "ChainCheck",
    "Channel",
    "NoticeChoice",
    "NoticeCreate",
    "NoticeFieldRead",
    "NoticeRead",
    "NoticeSend",
    "NoticeUpdate",
    "RegisterEntryRead",
    "RegisterRecord",
]

Channel = Literal["email", "letter", "portal", "phone", "in_person"]
CHANNELS: tuple[str, ...] = Channel.__args__  # type: ignore[attr-defined]
Language = Literal["en", "es", "fr"]
LANGUAGES: tuple[str, ...] = Language.__args__  # type: ignore[attr-defined]


class NoticeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    obligation_id: str = Field(max_length=100, description="e.g. qc-a21.cai, gdpr.art33.")
    language: Language = "en"
    recipient: str = Field(default="", max_length=300, description="Default: the law's.")
    address: str = Field(default="", max_length=300, description="E-mail, postal or portal.")
    channel: Channel = "email"
    fields: dict[str, str] = Field(default_factory=dict, description="Field id -> text.")


class NoticeUpdate(BaseModel):
    """Only what is sent changes; `fields` are merged into the draft's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    language: Language | None = None
    recipient: str | None = Field(default=None, max_length=300)
    address: str | None = Field(default=None, max_length=300)
    channel: Channel | None = None
    fields: dict[str, str] | None = None


class NoticeSend(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sent_at: datetime | None = Field(
        default=None, description="When sent by another channel (with its offset); not for e-mail."
    )


class NoticeFieldRead(BaseModel):
    id: str
    label: str
    article: str
    value: str


class NoticeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    obligation_id: str
    obligation_title: str = ""
    article: str = ""
    language: str
    recipient: str
    address: str
    channel: str
    fields: dict[str, str]
    required: list[NoticeFieldRead] = Field(default_factory=list)
    status: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    sent_at: datetime | None
    sent_by: str
    copy_text: str = Field(default="", description="The exact text sent.")
    copy_sha256: str
    message_id: str


class NoticeChoice(BaseModel):
    """An obligation a notice can be drafted for; those the case runs come first."""

    obligation_id: str
    title: str
    article: str
    recipient: str
    running: bool


class RegisterRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, str] = Field(
        default_factory=dict, description="Register field name -> text; unsent ones are kept."
    )


class RegisterEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    version: int
    data: dict[str, Any]
    retain_until: datetime | None
    recorded_at: datetime
    recorded_by: str
    prev_hash: str
    hash: str


class ChainCheck(BaseModel):
    ok: bool
    rows: int
    first_broken_id: int | None = None
    reason: str = ""
