"""TOTP (RFC 6238) helpers over pyotp, with a QR code as inline SVG (segno)."""

from __future__ import annotations

import io
from datetime import datetime

import pyotp
import segno

__all__ = ["matching_step", "new_secret", "provisioning_uri", "qr_svg"]

STEP_SECONDS = 30


def new_secret() -> str:
    return str(pyotp.random_base32())


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return str(pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer))


def qr_svg(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(
        buffer, kind="svg", scale=4, border=2, xmldecl=False, svgns=True, title="TOTP QR code"
    )
    return buffer.getvalue().decode("utf-8")


def matching_step(secret: str, code: str, at: datetime, *, window: int = 1) -> int | None:
    """The time step (counter) the code is valid for, within ±`window` steps, else None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at.timestamp()) // STEP_SECONDS
    for step in range(now_step - window, now_step + window + 1):
        if pyotp.utils.strings_equal(totp.at(step * STEP_SECONDS), code):
            return step
    return None
