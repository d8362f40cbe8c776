"""`civicshield detect` output: the progress bar on stderr, matches as a table, JSON lines or
CSV, and the summary by rule and level."""

from __future__ import annotations

import csv
import os
import sys
from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
from rich.text import Text

from civicshield.cli._common import console
from civicshield.core import Severity

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

__all__ = ["CSV_COLUMNS", "NoProgress", "Writer", "print_summary", "progress_bar", "read_position"]

CSV_COLUMNS = ("rule_id", "rule_title", "level", "author", "tags", "source", "line")


# -- progress -----------------------------------------------------------------------------------
class NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(err: Console) -> Progress | NoProgress:
    """A bar per input file, by bytes read, on stderr; only when stderr is a terminal (never in
    pipes or tests). It disappears when done: the summary stays."""
    if not sys.stderr.isatty():
        return NoProgress()
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )


def read_position(path: Path) -> int | None:
    """How far into `path` the reader's open handle is (bytes; for gzip, compressed bytes).
    The readers open their files themselves, so this asks the OS (Linux `/proc/self/fdinfo`);
    None where that is not available: the bar then jumps when the file is done."""
    target = os.path.realpath(path)
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return None
    best: int | None = None
    for fd in descriptors:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != target:
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as info:
                for line in info:
                    if line.startswith("pos:"):
                        position = int(line.split()[1])
                        best = position if best is None else max(best, position)
        except (OSError, ValueError):
            continue
    return best


# -- output -------------------------------------------------------------------------------------
class Writer:
    def __init__(self, fmt: str, stream: IO[str], columns: tuple[str, ...] = CSV_COLUMNS) -> None:
        self.fmt = fmt
        self.stream = stream
        self.columns = columns
        self.rows: list[dict[str, Any]] = []
        self.csv = csv.writer(stream) if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(columns)

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.stream.write(orjson.dumps(record).decode() + "\n")
        elif self.csv is not None:
            self.csv.writerow(
                [
                    ";".join(v) if isinstance(v, list) else v
                    for v in (record.get(c) for c in self.columns)
                ]
            )
        else:
            self.rows.append(record)

    def close(self) -> None:
        if self.fmt != "table":
            self.stream.flush()
            return
        from rich.console import Console
        from rich.table import Table

        timed = "@timestamp" in self.columns
        table = Table(header_style="bold")
        for column in ("level", "rule", "source", "line", *(("time",) if timed else ())):
            table.add_column(column)
        for r in self.rows:
            table.add_row(
                Text(r["level"] or ""),
                Text(r["rule_title"]),
                Text(r["source"]),
                Text(str(r["line"])),
                *((Text(str(r.get("@timestamp") or "")),) if timed else ()),
            )
        Console(file=self.stream, highlight=False, markup=False, soft_wrap=True).print(table)


def print_summary(summary: Counter[tuple[str, str, str]], events: int, bad_lines: int) -> None:
    from rich.table import Table

    err = console(stderr=True)
    table = Table(title="Matches by rule", header_style="bold", title_justify="left")
    for column in ("level", "rule", "matches"):
        table.add_column(column)
    rank = {s.value: s.rank for s in Severity}
    for (rule_id, title, level), count in sorted(
        summary.items(), key=lambda kv: (-rank.get(kv[0][2], -1), -kv[1], kv[0][1])
    ):
        table.add_row(Text(level), Text(f"{title} ({rule_id})"), Text(str(count)))
    err.print(table)
    by_level = Counter[str]()
    for (_, _, level), count in summary.items():
        by_level[level] += count
    levels = ", ".join(
        f"{k}: {v}" for k, v in sorted(by_level.items(), key=lambda kv: -rank.get(kv[0], -1))
    )
    err.print(
        Text(
            f"{events} events, {sum(summary.values())} matches from {len(summary)} rules"
            f"{' (' + levels + ')' if levels else ''}, {bad_lines} bad lines skipped"
        )
    )
