"""Password policy and hashing helpers (argon2id via argon2-cffi)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from civicshield.accounts.errors import WeakPassword
from civicshield.core.errors import FieldError

__all__ = ["check_policy", "generate_password", "hash_password", "verify_password"]

MIN_LENGTH = 12
_COMMON = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiop12",
        "contraseña123",
        "motdepasse12",
        "administrator",
        "civicshield1",
        "changeme1234",
        "welcome12345",
        "letmein12345",
    }
)
# Used for hashing when the user does not exist, so timing does not reveal valid usernames.
DUMMY_HASH_INPUT = "civicshield-no-such-user"


def check_policy(password: str, *, username: str) -> None:
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters")
    if password.lower() in _COMMON or (username and username.lower() in password.lower()):
        problems.append("do not use a common password or one containing the username")
    if len(set(password)) < 5:
        problems.append("use more different characters")
    if problems:
        raise WeakPassword(
            "password too weak: " + "; ".join(problems),
            [FieldError(("body", "password"), p) for p in problems],
        )


def generate_password(*usernames: str) -> str:
    """A strong random password (24 URL-safe characters) that passes the policy for each of
    `usernames` (it never contains one: a short name like "bo" turns up by chance about once in
    fifty draws) and can be typed on a command line (never starts with '-')."""
    avoid = [u.lower() for u in usernames if u]
    while True:
        candidate = secrets.token_urlsafe(18)
        if (
            not candidate.startswith("-")
            and len(set(candidate)) >= 10
            and any(c.isdigit() for c in candidate)
            and any(c.isupper() for c in candidate)
            and not any(u in candidate.lower() for u in avoid)
        ):
            return candidate


def hash_password(hasher: PasswordHasher, password: str) -> str:
    return str(hasher.hash(password))


def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
