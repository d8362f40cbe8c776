"""The Tailer's persisted state and file identity: device:inode, a fingerprint of the first bytes,
and a JSON state file written atomically (temp file, fsync, os.replace)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from civicshield.core.errors import ConfigError

__all__ = [
    "FINGERPRINT_BYTES",
    "file_id",
    "fingerprint",
    "last_line_end",
    "load_state",
    "save_state",
]

FINGERPRINT_BYTES = 1024
_STATE_VERSION = 1
_SCAN_BLOCK = 1 << 20
_ENTRY_FIELDS = {"file_id": str, "path": str, "fingerprint": str}
_ENTRY_COUNTS = ("fingerprint_len", "offset", "line")


def file_id(st: os.stat_result) -> str:
    return f"{st.st_dev}:{st.st_ino}"


def fingerprint(fd: int, length: int = FINGERPRINT_BYTES) -> tuple[str, int]:
    data = os.pread(fd, length, 0)
    return hashlib.sha256(data).hexdigest(), len(data)


def last_line_end(fd: int, size: int) -> tuple[int, int]:
    """(offset just after the last newline before `size`, number of lines before it), read in
    blocks so memory does not grow with the file."""
    pos = end = lines = 0
    while pos < size:
        block = os.pread(fd, min(_SCAN_BLOCK, size - pos), pos)
        if not block:
            break
        count = block.count(b"\n")
        if count:
            lines += count
            end = pos + block.rfind(b"\n") + 1
        pos += len(block)
    return end, lines


def load_state(path: Path) -> list[dict[str, Any]]:
    """The entries of a state file; a corrupted file is refused with the place of the problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the tail state file: {exc}") from exc
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: tail state file is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("version") != _STATE_VERSION:
        raise ConfigError(f"{path}: $.version must be {_STATE_VERSION}")
    files = doc.get("files")
    if not isinstance(files, list):
        raise ConfigError(f"{path}: $.files must be a list")
    for i, entry in enumerate(files):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: $.files[{i}] must be an object")
        for name, kind in _ENTRY_FIELDS.items():
            if not isinstance(entry.get(name), kind):
                raise ConfigError(f"{path}: $.files[{i}].{name} must be a {kind.__name__}")
        for name in _ENTRY_COUNTS:
            value = entry.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{path}: $.files[{i}].{name} must be a non-negative integer")
    return files


def save_state(path: Path, tmp: Path, files: list[dict[str, Any]]) -> None:
    """Replace the state file atomically: a crash leaves the old or the new state, never half."""
    payload = json.dumps({"version": _STATE_VERSION, "files": files}, indent=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)
