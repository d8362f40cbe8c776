"""Chunked AES-256-GCM for evidence blobs: streamed, so a large file is never held whole.

Layout: a 35-byte header (magic `CSEVID01`, 16-byte salt, 7-byte nonce prefix, chunk size as
4 bytes big-endian), then the chunks, each `chunk size` bytes of plaintext (the last one
shorter, possibly empty) followed by its 16-byte tag. Each blob gets its own key, derived with
HKDF-SHA256 from the master key and the salt, so nonces never repeat across blobs. A chunk's
nonce is the prefix, the chunk counter (4 bytes) and a last-chunk flag (1 byte); its associated
data is the header, the binding (case, evidence id and blob name) and the counter. So a flipped
byte, a dropped or added chunk, reordered chunks, a truncated file or a blob swapped with
another record's all fail authentication.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from civicshield.core.errors import TooLarge

__all__ = ["CHUNK_SIZE", "Readable", "Sealed", "Tampered", "decrypt_chunks", "encrypt_stream"]

CHUNK_SIZE = 1024 * 1024
_MAGIC = b"CSEVID01"
_HEADER = len(_MAGIC) + 16 + 7 + 4
_TAG = 16
_MAX_CHUNK = 16 * 1024 * 1024  # refuse a header that would make us allocate more


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class Tampered(Exception):
    """The blob cannot be trusted; `reason` says why (missing, changed, truncated...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Sealed:
    size: int
    sha256: str


def _blob_key(master: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"civicshield evidence v1")
    return AESGCM(hkdf.derive(master))


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _aad(header: bytes, binding: bytes, index: int) -> bytes:
    return header + len(binding).to_bytes(4, "big") + binding + index.to_bytes(8, "big")


def encrypt_stream(
    src: Readable,
    dest: Path,
    *,
    key: bytes,
    binding: bytes,
    max_bytes: int,
    chunk_size: int = CHUNK_SIZE,
) -> Sealed:
    """Encrypt `src` into `dest`, atomically (temp file, fsync, rename), hashing the plaintext
    on the way. TooLarge (nothing written) when `src` holds more than `max_bytes`."""
    salt, prefix = secrets.token_bytes(16), secrets.token_bytes(7)
    header = _MAGIC + salt + prefix + chunk_size.to_bytes(4, "big")
    aead = _blob_key(key, salt)
    digest = hashlib.sha256()
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.tmp")
    size = index = 0
    try:
        with open(tmp, "xb") as out:
            out.write(header)
            chunk = src.read(chunk_size)
            while True:
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(
                        f"the file is larger than the evidence limit of {max_bytes} bytes "
                        "(CIVICSHIELD_EVIDENCE_MAX_BYTES)"
                    )
                following = src.read(chunk_size) if len(chunk) == chunk_size else b""
                last = not following
                digest.update(chunk)
                nonce = _nonce(prefix, index, last)
                out.write(aead.encrypt(nonce, chunk, _aad(header, binding, index)))
                if last:
                    break
                chunk, index = following, index + 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_dir(dest.parent)
    return Sealed(size=size, sha256=digest.hexdigest())


def _sync_dir(directory: Path) -> None:
    """Make the rename durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def decrypt_chunks(path: Path, *, key: bytes, binding: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk; Tampered as soon as anything fails to authenticate.
    A caller must consume it to the end: only then is the file known to be complete."""
    try:
        src = open(path, "rb")  # noqa: SIM115 - closed in finally, across yields
    except FileNotFoundError:
        raise Tampered("the encrypted file is missing from the evidence store") from None
    try:
        header = src.read(_HEADER)
        if len(header) != _HEADER or not header.startswith(_MAGIC):
            raise Tampered("the encrypted file's header is damaged or it is not an evidence blob")
        salt, prefix = header[8:24], header[24:31]
        chunk_size = int.from_bytes(header[31:35], "big")
        if not 0 < chunk_size <= _MAX_CHUNK:
            raise Tampered("the encrypted file's header is damaged (chunk size)")
        aead = _blob_key(key, salt)
        block = src.read(chunk_size + _TAG)
        index = 0
        while True:
            following = src.read(chunk_size + _TAG) if len(block) == chunk_size + _TAG else b""
            last = not following
            try:
                plain = aead.decrypt(
                    _nonce(prefix, index, last), block, _aad(header, binding, index)
                )
            except InvalidTag:
                raise Tampered(
                    f"authentication failed at chunk {index}: the encrypted file was changed, "
                    "truncated, extended or swapped with another one"
                ) from None
            yield plain
            if last:
                return
            block, index = following, index + 1
    finally:
        src.close()
