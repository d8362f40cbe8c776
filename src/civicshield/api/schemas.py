"""Models of the REST API's own bodies: the generic `Page`, the `Problem` error shape, and the
few request/response bodies that are not a domain's schema (domains' schemas are used as is)."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from civicshield.accounts import Permission, Principal, TokenCreate, UserRead
from civicshield.core import Role, Sector, Severity
from civicshield.jobs import JobLogRead, JobRead

__all__ = [
    "EnumMember",
    "Enums",
    "Health",
    "JobCreate",
    "JobDefinitionRead",
    "JobDetail",
    "Me",
    "Page",
    "PasswordReset",
    "PasswordResetResult",
    "Problem",
    "ProblemFieldError",
    "RuleDetail",
    "RuleRead",
    "TokenCreateRequest",
]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a collection. Follow `next` (null on the last page) to read the rest."""

    items: list[T]
    total: int = Field(description="How many items match the filters, over all pages.")
    limit: int = Field(description="Page size asked for (1-200).")
    offset: int = Field(description="How many matching items precede this page.")
    next: str | None = Field(description="URL of the next page, or null on the last page.")


class ProblemFieldError(BaseModel):
    loc: list[str | int] = Field(examples=[["body", "username"]])
    msg: str = Field(examples=["Field required"])


class Problem(BaseModel):
    """RFC 9457 problem details, the one error shape of `/api` (`application/problem+json`)."""

    type: str = Field(examples=["https://civicshield.example/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["user 42 does not exist"])
    instance: str | None = Field(examples=["/api/v1/users/42"])
    errors: list[ProblemFieldError] = Field(default_factory=list)


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: Literal["ok", "error"]


class EnumMember(BaseModel):
    value: str
    label: str
    colour: str = Field(description="A colour token (CSS custom property name), never alone.")


class Enums(BaseModel):
    severity: list[EnumMember]
    tlp: list[EnumMember]
    sector: list[EnumMember]
    role: list[EnumMember]


class Me(BaseModel):
    """The authenticated principal: the user, and what this request may do."""

    id: int
    username: str
    display_name: str
    role: Role
    sectors: list[Sector]
    permissions: list[Permission] = Field(
        description="What this request may do (a token's scopes narrow its user's role)."
    )
    via: Literal["session", "token"]
    token_id: int | None
    language: str
    timezone: str
    theme: str
    totp_enabled: bool
    must_change_password: bool

    @classmethod
    def of(cls, principal: Principal, user: UserRead | None = None) -> Me:
        """From the principal; `user` (fresher, e.g. after an update) overrides preferences."""
        return cls(
            id=principal.user_id,
            username=principal.username,
            display_name=user.display_name if user else principal.display_name,
            role=principal.role,
            sectors=sorted(principal.sectors),
            permissions=sorted(principal.permissions),
            via="token" if principal.via == "token" else "session",
            token_id=principal.token_id,
            language=user.language if user else principal.language,
            timezone=user.timezone if user else principal.timezone,
            theme=user.theme if user else principal.theme,
            totp_enabled=user.totp_enabled if user else principal.totp_enabled,
            must_change_password=(
                user.must_change_password if user else principal.must_change_password
            ),
        )


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="The new password; omit it (or send no body) to have one generated.",
    )


class PasswordResetResult(BaseModel):
    user_id: int
    generated: bool
    password: str | None = Field(
        description="The generated password, shown this once; null when the caller chose it."
    )


class TokenCreateRequest(TokenCreate):
    user_id: int | None = Field(
        default=None, description="Owner of the new token (needs tokens:manage); default: you."
    )


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["audit.verify"])
    args: dict[str, Any] = Field(default_factory=dict)


class JobDetail(JobRead):
    log: list[JobLogRead] = Field(description="Log lines the job stored, oldest first.")


class JobDefinitionRead(BaseModel):
    name: str
    description: str
    max_attempts: int
    backoff_seconds: int
    every_seconds: int | None = Field(description="Scheduled every N seconds, or null.")


class RuleRead(BaseModel):
    """One detection rule of the catalogue. Show `author` with the rule and its alerts
    (Detection Rule License)."""

    id: str = Field(examples=["5f92fff9-82e2-48eb-8fc1-8b133556a551"])
    title: str
    level: Severity | None
    status: str | None = Field(examples=["test"])
    author: str | None
    tags: list[str] = Field(examples=[["attack.execution", "attack.t1059.001"]])
    techniques: list[str] = Field(examples=[["T1059.001"]])
    tactics: list[str] = Field(examples=[["execution"]])
    product: str | None
    category: str | None
    service: str | None
    path: str = Field(
        description="Relative to its rules root.", examples=["windows/process_creation/x.yml"]
    )
    kind: Literal["rule", "correlation", "filter"]
    deprecated: bool
    runnable: bool = Field(description="Whether the detection engine can run the rule.")
    reason: str | None = Field(description="Why the engine cannot run it; null when it can.")


class RuleDetail(RuleRead):
    source: str = Field(description="The rule file on the server.")
    yaml: str | None = Field(
        description="The rule file's text; null when the file is gone or cannot be read."
    )
