"""The evidence vault and keys, without a database: chunked AES-256-GCM round trips, and every
kind of damage to a blob (flipped byte, truncation, extension, swapped blobs, missing file,
wrong binding) fails authentication; keys are 32 bytes of base64 or a clear ConfigError."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from pathlib import Path

import pytest

from civicshield.core.errors import ConfigError, TooLarge
from civicshield.incidents.evidence import decode_key, key_id
from civicshield.incidents.evidence.vault import Tampered, decrypt_chunks, encrypt_stream

KEY = bytes(range(32))
BIND = b"case=1;evidence=1;blob=a"


def seal(tmp_path: Path, data: bytes, name: str = "a", bind: bytes = BIND, chunk: int = 64) -> Path:
    dest = tmp_path / name
    sealed = encrypt_stream(
        io.BytesIO(data), dest, key=KEY, binding=bind, max_bytes=10_000, chunk_size=chunk
    )
    assert sealed.sha256 == hashlib.sha256(data).hexdigest() and sealed.size == len(data)
    return dest


def opened(path: Path, bind: bytes = BIND) -> bytes:
    return b"".join(decrypt_chunks(path, key=KEY, binding=bind))


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_round_trip_at_every_chunk_boundary(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    path = seal(tmp_path, data)
    assert opened(path) == data
    if size >= 16:  # encrypted, not stored as is (shorter strings could match by chance)
        assert data not in path.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed away


def damage_cases() -> list[str]:
    return ["flip", "truncate", "truncate_boundary", "extend", "reorder", "header"]


@pytest.mark.parametrize("how", damage_cases())
def test_any_damage_fails_authentication(tmp_path: Path, how: str) -> None:
    path = seal(tmp_path, os.urandom(200))  # 35-byte header + 4 chunks (64, 64, 64, 8) + tags
    blob = bytearray(path.read_bytes())
    chunk = 64 + 16
    if how == "flip":
        blob[100] ^= 0x01
    elif how == "truncate":
        del blob[-5:]
    elif how == "truncate_boundary":
        del blob[35 + 3 * chunk :]  # the last chunk dropped whole
    elif how == "extend":
        blob += blob[35 : 35 + chunk]
    elif how == "reorder":
        first, second = blob[35 : 35 + chunk], blob[35 + chunk : 35 + 2 * chunk]
        blob[35 : 35 + 2 * chunk] = second + first
    else:
        blob[10] ^= 0xFF  # the salt: another derived key
    path.write_bytes(bytes(blob))
    with pytest.raises(Tampered):
        opened(path)


def test_blobs_swapped_between_records_or_missing_are_detected(tmp_path: Path) -> None:
    a = seal(tmp_path, b"first", "a", b"evidence=1;blob=a")
    b = seal(tmp_path, b"second", "b", b"evidence=2;blob=b")
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)
    b.write_bytes(a_bytes)
    for path, bind in ((a, b"evidence=1;blob=a"), (b, b"evidence=2;blob=b")):
        with pytest.raises(Tampered, match="authentication failed"):
            opened(path, bind)
    a.unlink()
    with pytest.raises(Tampered, match="missing"):
        opened(a, b"evidence=1;blob=a")


def test_size_limit_refuses_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(TooLarge, match="10000 bytes"):
        encrypt_stream(
            io.BytesIO(b"x" * 10_001), tmp_path / "big", key=KEY, binding=BIND, max_bytes=10_000
        )
    assert list(tmp_path.iterdir()) == []


def test_keys_must_be_base64_of_32_bytes() -> None:
    good = base64.b64encode(KEY).decode()
    assert decode_key(good, source="X") == KEY
    assert len(key_id(KEY)) == 16 and key_id(KEY) != key_id(bytes(32))
    with pytest.raises(ConfigError, match="X: decodes to 16 bytes"):
        decode_key(base64.b64encode(bytes(16)).decode(), source="X")
    with pytest.raises(ConfigError, match="not valid base64") as err:
        decode_key("not base64!!", source="X")
    assert "not base64!!" not in str(err.value)
