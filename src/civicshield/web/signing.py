"""HMAC signatures for values the browser carries for us (anonymous CSRF tokens, the pending
TOTP secret during enrolment). Each signature is bound to a purpose so one kind of signed
value can never be replayed as another."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

__all__ = ["mac", "sign", "unsign"]


def mac(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under `secret`, separated by purpose, URL-safe base64."""
    key = hashlib.sha256(f"civicshield.web:{purpose}:{secret}".encode()).digest()
    digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign(secret: str, purpose: str, value: str, *, now: datetime) -> str:
    """`value.timestamp.mac`: the value stays readable, the timestamp limits its age."""
    stamp = str(int(now.timestamp()))
    return f"{value}.{stamp}.{mac(secret, purpose, f'{value}.{stamp}')}"


def unsign(secret: str, purpose: str, token: str, *, now: datetime, max_age: int) -> str | None:
    """The signed value, or None when the signature is wrong or older than `max_age` seconds."""
    value, _, rest = token.rpartition(".")
    value, _, stamp = value.rpartition(".")
    if not value or not stamp.isdigit():
        return None
    if not hmac.compare_digest(mac(secret, purpose, f"{value}.{stamp}"), rest):
        return None
    age = now.timestamp() - int(stamp)
    return value if 0 <= age <= max_age else None
