"""Accounts errors (subclasses of the core tree)."""

from __future__ import annotations

from civicshield.core.errors import AuthenticationError, Invalid, RateLimited

__all__ = ["AccountLocked", "BadCredentials", "WeakPassword"]


class BadCredentials(AuthenticationError):
    """Wrong username, password or code. The message never says which."""

    keep_changes = True

    def __init__(self, detail: str = "invalid username or password") -> None:
        super().__init__(detail)


class AccountLocked(RateLimited):
    title = "Account locked"
    keep_changes = True


class WeakPassword(Invalid):
    title = "Weak password"
