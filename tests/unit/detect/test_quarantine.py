"""The dead-letter store: add, list, replay after a fix."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from civicshield.core.errors import Invalid
from civicshield.detect.quarantine import QuarantineStore
from civicshield.detect.readers.base import Quarantined, ReadResult

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def parser(accept: set[bytes]):  # type: ignore[no-untyped-def]
    """A stand-in reader: lines in `accept` read, the others are quarantined."""

    def parse(lines: list[tuple[int, bytes]], source: str) -> list[ReadResult]:
        good = [raw.decode() for _, raw in lines if raw in accept]
        bad = [
            Quarantined(source, f"line {n}", "still bad", raw.decode())
            for n, raw in lines
            if raw not in accept
        ]
        frame = pl.DataFrame({"_raw": good}, schema={"_raw": pl.String})
        return [ReadResult("test", frame, bad)]

    return parse


def test_add_list_and_replay_after_a_fix(tmp_path: Path) -> None:
    q = QuarantineStore(tmp_path)
    records = [
        Quarantined("a.log", "line 3", "bad header", "x"),
        Quarantined("a.log", "line 9", "bad header", "y"),
        Quarantined("b.log", "line 1", "no equals", "z"),
    ]
    assert q.add("syslog", records, now=NOW) == 3
    assert q.counts() == {"syslog": 3}
    entry = next(q.entries(fmt="syslog"))
    assert (entry.source, entry.position, entry.reason, entry.raw) == (
        "a.log",
        "line 3",
        "bad header",
        "x",
    )
    stored: list[ReadResult] = []
    report = q.replay("syslog", parser({b"x", b"z"}), stored.append)
    assert (report.replayed, report.recovered, report.still_bad) == (3, 2, 1)
    assert sorted(v for r in stored for v in r.frame["_raw"].to_list()) == ["x", "z"]
    assert [e.raw for e in q.entries()] == ["y"]
    again = q.replay("syslog", parser({b"y"}), stored.append)
    assert again.recovered == 1 and q.counts() == {}


def test_format_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="format name"):
        QuarantineStore(tmp_path).add("../x", [Quarantined("a", "line 1", "r", "")])
