"""Evidence keys: AES-256 keys from `CIVICSHIELD_EVIDENCE_KEY` or the key file
`<data_dir>/evidence.key`, never from the database.

The key file is a small JSON document (mode 0600) holding the current key and the older ones
still needed to read blobs not yet re-encrypted:
`{"format": "civicshield-evidence-keys/1", "current": ID, "keys": {ID: base64}}`. A key's id is
derived from the key (a truncated SHA-256 with a label) so `Evidence.key_id` names a key
without revealing it. With the setting, the key file is still read (when present) for older
keys, but never written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from civicshield.core.errors import ConfigError
from civicshield.core.settings import Settings

__all__ = [
    "KEY_FILE",
    "KeyRing",
    "decode_key",
    "ensure_key_file",
    "key_id",
    "load_keyring",
    "new_key",
    "write_key_file",
]

KEY_FILE = "evidence.key"
_FORMAT = "civicshield-evidence-keys/1"
_KEY_BYTES = 32


def key_id(key: bytes) -> str:
    """A public name for a key: 16 hex digits of a labelled SHA-256 (one-way)."""
    return hashlib.sha256(b"civicshield evidence key id\x00" + key).hexdigest()[:16]


def new_key() -> bytes:
    return secrets.token_bytes(_KEY_BYTES)


def decode_key(text: str, *, source: str) -> bytes:
    """Base64 of exactly 32 bytes, or a ConfigError naming `source` (never echoing the value)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(
            f"{source}: not valid base64 (expected base64 of 32 random bytes)"
        ) from None
    if len(key) != _KEY_BYTES:
        raise ConfigError(
            f"{source}: decodes to {len(key)} bytes; AES-256 needs exactly 32 "
            "(make one with: openssl rand -base64 32)"
        )
    return key


@dataclass(frozen=True)
class KeyRing:
    """The current key (new blobs) and every key known by id (reading older blobs)."""

    current: str
    keys: dict[str, bytes] = field(repr=False)
    from_setting: bool = False

    def key(self, kid: str) -> bytes | None:
        return self.keys.get(kid)


def _path(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE


def _read_file(path: Path) -> tuple[str, dict[str, bytes]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        current, raw = doc["current"], doc["keys"]
        if doc.get("format") != _FORMAT or not isinstance(raw, dict) or current not in raw:
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"{path}: not a readable evidence key file ({_FORMAT} with 'current' and 'keys')"
        ) from None
    keys = {}
    for kid, text in raw.items():
        key = decode_key(str(text), source=f"{path} key {kid}")
        if key_id(key) != kid:
            raise ConfigError(f"{path}: key {kid} does not match its id")
        keys[kid] = key
    return str(current), keys


def write_key_file(path: Path, current: str, keys: dict[str, bytes]) -> None:
    """Replace the key file atomically (temp file 0600, fsync, rename)."""
    doc = {
        "format": _FORMAT,
        "current": current,
        "keys": {kid: base64.b64encode(k).decode("ascii") for kid, k in sorted(keys.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, indent=2)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_key_file(settings: Settings) -> tuple[Path, bool]:
    """Create the key file with one fresh key unless the setting gives the key or the file
    exists; returns (path, created)."""
    path = _path(settings)
    if settings.evidence_key is not None or path.exists():
        return path, False
    key = new_key()
    write_key_file(path, key_id(key), {key_id(key): key})
    return path, True


def load_keyring(settings: Settings, *, create: bool = True) -> KeyRing:
    """The keys for this installation: the setting's key as current (plus older keys from the
    file when present), else the key file (created first when `create`)."""
    path = _path(settings)
    if settings.evidence_key is not None:
        key = decode_key(
            settings.evidence_key.get_secret_value(), source="CIVICSHIELD_EVIDENCE_KEY"
        )
        older = _read_file(path)[1] if path.exists() else {}
        return KeyRing(key_id(key), {**older, key_id(key): key}, from_setting=True)
    if create:
        ensure_key_file(settings)
    elif not path.exists():
        raise ConfigError(f"{path}: no evidence key file; run `civicshield init`")
    current, keys = _read_file(path)
    return KeyRing(current, keys)
