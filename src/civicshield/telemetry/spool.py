"""The detection spool: parsed events waiting for the next micro-batch, on disk.

Every ingest path (HTTP, syslog, tailed files) parses what it receives, quarantines what does
not read, and puts the accepted frame here as one Arrow IPC file, written to a temporary name,
fsynced and renamed in: a crash never leaves half a batch visible, and nothing accepted lives
only in memory. The detection job takes the oldest entries, evaluates them, writes alerts and
the event store, and only then deletes them (`done`). The spool has a size budget: when full,
ingest refuses new data (HTTP 503 with Retry-After, TCP syslog stops reading, tailing waits)
instead of growing without bound.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from civicshield.detect.eventstore import check_name

__all__ = ["Spool", "SpoolEntry", "SpoolFull"]

_SUFFIX = ".arrow"


class SpoolFull(Exception):
    """The spool is over its size budget: ingest must wait."""


@dataclass(frozen=True)
class SpoolEntry:
    path: Path
    id: str  # "<nanoseconds>-<random>": orders entries by arrival, unique
    dataset: str
    rows: int
    bytes: int
    created_ns: int


class Spool:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._tmp = root / ".tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        for leftover in self._tmp.iterdir():  # half-written by a crash: never accepted
            leftover.unlink(missing_ok=True)

    def put(self, frame: pl.DataFrame, dataset: str, *, force: bool = False) -> SpoolEntry:
        """Write one accepted batch. Raises `SpoolFull` over budget unless `force` (data
        already acknowledged to its sender must never be refused)."""
        check_name(dataset)
        if not force and self.bytes() >= self.max_bytes:
            raise SpoolFull(
                f"the detection spool holds {self.bytes():,} bytes (budget {self.max_bytes:,})"
            )
        now = time.time_ns()
        ident = f"{now:020d}-{secrets.token_hex(4)}"
        name = f"{ident}__{dataset}__{frame.height}{_SUFFIX}"
        tmp = self._tmp / name
        frame.write_ipc(tmp, compression="lz4")
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        target = self.root / name
        os.replace(tmp, target)
        return SpoolEntry(target, ident, dataset, frame.height, target.stat().st_size, now)

    def entries(self) -> list[SpoolEntry]:
        """Every waiting entry, oldest first."""
        found = []
        for path in self.root.glob(f"*{_SUFFIX}"):
            ident, dataset, rows = path.name[: -len(_SUFFIX)].split("__")
            try:
                size = path.stat().st_size
            except FileNotFoundError:  # taken by another worker meanwhile
                continue
            found.append(
                SpoolEntry(path, ident, dataset, int(rows), size, int(ident.split("-")[0]))
            )
        return sorted(found, key=lambda e: e.id)

    def bytes(self) -> int:
        return sum(e.bytes for e in self.entries())

    def rows(self) -> int:
        return sum(e.rows for e in self.entries())

    @staticmethod
    def read(entry: SpoolEntry) -> pl.DataFrame:
        return pl.read_ipc(entry.path)

    @staticmethod
    def done(entry: SpoolEntry) -> None:
        entry.path.unlink(missing_ok=True)
