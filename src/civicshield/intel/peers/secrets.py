"""A peer's password or API token, sealed at rest with AES-256-GCM.

The key is derived with HKDF-SHA256 from the instance secret (`CIVICSHIELD_SECRET_KEY`, else
`<data_dir>/secret.key`), so no second key file has to be kept and backed up; rotating the
instance secret means entering the peers' secrets again. A sealed value is
`v1:<base64url(nonce ‖ ciphertext ‖ tag)>`; the peer's name is the associated data, so a
sealed secret copied onto another peer does not open."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from civicshield.core.errors import ConfigError
from civicshield.core.settings import Settings

__all__ = ["open_secret", "seal_secret"]

_PREFIX = "v1:"
_INFO = b"civicshield intel peer secret v1"


def _cipher(settings: Settings) -> AESGCM:
    master = settings.secret().encode("utf-8")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return AESGCM(hkdf.derive(master))


def seal_secret(settings: Settings, secret: str, *, peer: str) -> str:
    """The sealed form of `secret` ("" stays "": no secret)."""
    if not secret:
        return ""
    nonce = os.urandom(12)
    box = _cipher(settings).encrypt(nonce, secret.encode("utf-8"), peer.encode("utf-8"))
    return _PREFIX + base64.urlsafe_b64encode(nonce + box).decode("ascii")


def open_secret(settings: Settings, sealed: str, *, peer: str) -> str:
    """The secret sealed by `seal_secret`; a ConfigError when it cannot be opened (the
    instance secret changed, or the value was altered)."""
    if not sealed:
        return ""
    if not sealed.startswith(_PREFIX):
        raise ConfigError(f"peer {peer!r}: the stored secret is not in a known format")
    try:
        raw = base64.urlsafe_b64decode(sealed[len(_PREFIX) :].encode("ascii"))
        plain = _cipher(settings).decrypt(raw[:12], raw[12:], peer.encode("utf-8"))
    except (InvalidTag, ValueError, binascii.Error):
        raise ConfigError(
            f"peer {peer!r}: the stored secret cannot be opened (was the instance secret "
            "changed?); set the peer's secret again"
        ) from None
    return plain.decode("utf-8")
