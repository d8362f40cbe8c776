"""Pydantic models at the accounts boundary (API bodies, CLI output, service results)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from civicshield.accounts.permissions import Permission
from civicshield.core.enums import Role, Sector
from civicshield.core.i18n import LANGUAGES

__all__ = [
    "Preferences",
    "TokenCreate",
    "TokenCreated",
    "TokenPage",
    "TokenRead",
    "TotpEnrolment",
    "UserCreate",
    "UserPage",
    "UserRead",
    "UserUpdate",
]

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
Theme = Literal["system", "light", "dark"]
Username = Annotated[str, Field(min_length=2, max_length=64, examples=["ana.lopez"])]


def _check_username(value: str) -> str:
    value = value.strip().lower()
    if not USERNAME_RE.fullmatch(value):
        raise ValueError("use 2-64 characters: lower-case letters, digits, '.', '_' or '-'")
    return value


def _check_language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
    return value


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    email: EmailStr | None = None
    display_name: str = Field(default="", max_length=200)
    sectors: list[Sector] = Field(default_factory=list)
    language: str = "en"
    timezone: str = "UTC"

    _u = field_validator("username")(_check_username)
    _l = field_validator("language")(_check_language)
    _t = field_validator("timezone")(_check_timezone)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    display_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    sectors: list[Sector] | None = None
    is_active: bool | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str | None
    display_name: str
    role: Role
    sectors: list[Sector]
    is_active: bool
    totp_enabled: bool
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    language: str
    timezone: str
    theme: Theme
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    limit: int
    offset: int


class Preferences(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str | None = None
    timezone: str | None = None
    theme: Theme | None = None
    display_name: str | None = Field(default=None, max_length=200)

    @field_validator("language")
    @classmethod
    def _lang(cls, v: str | None) -> str | None:
        return None if v is None else _check_language(v)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return None if v is None else _check_timezone(v)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Permission] = Field(min_length=1)
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[Permission]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    """Returned once at creation: `token` is never shown again."""

    token: str


class TokenPage(BaseModel):
    items: list[TokenRead]
    total: int
    limit: int
    offset: int


class TotpEnrolment(BaseModel):
    secret: str
    uri: str
    qr_svg: str
