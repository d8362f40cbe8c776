"""The dead-letter store for records a reader could not read.

Each quarantined record is one JSON line in `<root>/<format>/<YYYY-MM-DD>.jsonl` (the day it was
quarantined): the input's name, the position in it, the reason, the record's text and the
reader format, so that after a fix (a reader update, a corrected mapping) `replay` can read it
again and send what now parses to the event store. Appends are whole lines written with one
`write` on a file opened in append mode, under the store's lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from civicshield.detect.eventstore import check_name
from civicshield.detect.readers.base import Quarantined, ReadResult

__all__ = ["QuarantineEntry", "QuarantineStore", "ReplayReport"]


@dataclass(frozen=True)
class QuarantineEntry:
    format: str
    source: str
    position: str
    reason: str
    raw: str
    at: str  # ISO time it was quarantined
    file: Path
    index: int  # line in the quarantine file (for replay bookkeeping)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": self.source,
            "position": self.position,
            "reason": self.reason,
            "raw": self.raw,
            "at": self.at,
        }


@dataclass
class ReplayReport:
    replayed: int = 0
    recovered: int = 0
    still_bad: int = 0


class QuarantineStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, fmt: str, records: Iterable[Quarantined], *, now: datetime | None = None) -> int:
        check_name(fmt, "format")
        at = (now or datetime.now(UTC)).astimezone(UTC)
        lines = [
            orjson.dumps(
                {
                    "format": fmt,
                    "source": q.source,
                    "position": q.position,
                    "reason": q.reason,
                    "raw": q.raw,
                    "at": at.isoformat(),
                }
            )
            + b"\n"
            for q in records
        ]
        if not lines:
            return 0
        folder = self.root / fmt
        folder.mkdir(exist_ok=True)
        with (folder / f"{at.date().isoformat()}.jsonl").open("ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.write(b"".join(lines))
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return len(lines)

    def entries(self, *, fmt: str | None = None) -> Iterator[QuarantineEntry]:
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if fmt and folder.name != fmt:
                continue
            for file in sorted(folder.glob("*.jsonl")):
                with file.open("rb") as handle:
                    for index, line in enumerate(handle):
                        if not line.strip():
                            continue
                        item = orjson.loads(line)
                        yield QuarantineEntry(file=file, index=index, **item)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry in self.entries():
            out[entry.format] = out.get(entry.format, 0) + 1
        return out

    def replay(
        self,
        fmt: str,
        parse: Callable[[list[tuple[int, bytes]], str], list[ReadResult]],
        store: Callable[[ReadResult], None],
    ) -> ReplayReport:
        """Read every quarantined record of `fmt` again with `parse` (the current reader);
        what now reads goes to `store`, what still fails stays (with the new reason)."""
        report = ReplayReport()
        folder = self.root / fmt
        if not folder.is_dir():
            return report
        for file in sorted(folder.glob("*.jsonl")):
            with file.open("r+b") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    entries = [orjson.loads(line) for line in handle if line.strip()]
                    keep: list[dict[str, Any]] = []
                    by_source: dict[str, list[dict[str, Any]]] = {}
                    for item in entries:
                        by_source.setdefault(item["source"], []).append(item)
                    for source, items in by_source.items():
                        lines = [(i + 1, it["raw"].encode()) for i, it in enumerate(items)]
                        results = parse(lines, source)
                        report.replayed += len(items)
                        failed: set[int] = set()
                        for result in results:
                            report.recovered += result.frame.height
                            if result.frame.height:
                                store(result)
                            failed |= {int(q.position.split()[-1]) for q in result.quarantined}
                        report.still_bad += len(failed)
                        keep.extend(it for i, it in enumerate(items) if i + 1 in failed)
                    handle.seek(0)
                    handle.truncate()
                    handle.write(b"".join(orjson.dumps(it) + b"\n" for it in keep))
                    handle.flush()
                    os.fsync(handle.fileno())
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            if not keep:
                file.unlink()
        return report
