"""The CivicShield error tree. Domains raise these; adapters map them to responses.

CivicShieldError
├── ConfigError           settings or a config file are wrong (names the setting/file)
├── NotFound              a record does not exist
├── Conflict              a record already exists, or a state change is not allowed
├── PermissionDenied      the actor may not do this
│   └── AuthenticationError   who the actor is could not be established
├── TooLarge              a request or upload is over its size limit
├── Invalid               input breaks a rule (carries field-level errors)
│   └── RuleError         a detection rule or other source file is wrong (file/line/column)
├── RateLimited           too many attempts; retry after some seconds
│   └── Overloaded        a queue is full (back-pressure); retry after some seconds
└── ExternalServiceError  a feed, mail server or peer failed
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AuthenticationError",
    "CivicShieldError",
    "ConfigError",
    "Conflict",
    "ExternalServiceError",
    "FieldError",
    "Invalid",
    "NotFound",
    "Overloaded",
    "PermissionDenied",
    "RateLimited",
    "RuleError",
    "TooLarge",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; `loc` is the path to it (e.g. ("body", "email"))."""

    loc: tuple[str | int, ...]
    msg: str


class CivicShieldError(Exception):
    """Base of every error CivicShield raises on purpose."""

    title = "CivicShield error"
    status = 500
    slug = "error"
    # True when the unit of work must still commit what it recorded before the error (a failed
    # login attempt counts towards lockout and is audited even though the request fails).
    keep_changes = False

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigError(CivicShieldError):
    title = "Configuration error"
    slug = "config"


class NotFound(CivicShieldError):
    title = "Not found"
    status = 404
    slug = "not-found"


class Conflict(CivicShieldError):
    title = "Conflict"
    status = 409
    slug = "conflict"


class PermissionDenied(CivicShieldError):
    title = "Forbidden"
    status = 403
    slug = "forbidden"


class AuthenticationError(PermissionDenied):
    title = "Unauthorized"
    status = 401
    slug = "unauthorized"


class TooLarge(CivicShieldError):
    title = "Payload too large"
    status = 413
    slug = "too-large"


class Invalid(CivicShieldError):
    title = "Invalid input"
    status = 422
    slug = "invalid"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class RuleError(Invalid):
    """A source file (rule, config, template) is wrong at a known place."""

    title = "Invalid rule"
    slug = "invalid-rule"

    def __init__(
        self,
        detail: str,
        *,
        source: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        where = source or "<input>"
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {detail}")
        self.source, self.line, self.column = source, line, column


class RateLimited(CivicShieldError):
    title = "Too many requests"
    status = 429
    slug = "rate-limited"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Overloaded(RateLimited):
    title = "Overloaded"
    status = 503
    slug = "overloaded"


class ExternalServiceError(CivicShieldError):
    title = "External service failed"
    status = 502
    slug = "external-service"
