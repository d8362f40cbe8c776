"""Read JSON Lines (plain or `.gz`) in bounded batches with an explicit schema.

Each batch frame has one `String` column per wanted field (numbers and booleans in their JSON
text form, nested values as compact JSON, absent keys null), `_raw` (the line) and `_line`
(1-based line number in the file); with `values=True` also `_values`: every scalar value of the
object joined by `\\x1f`, for keyword rules. Polars' schema inference is never used: it drops
keys first seen after the lines it samples. A line that is not a JSON object is reported as a
`BadLine` and skipped; nothing else is lost. Blank lines are skipped silently.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import polars as pl

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LINE_FIELD",
    "RAW_FIELD",
    "BadLine",
    "JsonlBatch",
    "batch_from_lines",
    "read_jsonl",
]

DEFAULT_BATCH_SIZE = 50_000
RAW_FIELD = "_raw"
LINE_FIELD = "_line"
VALUES_FIELD = "_values"
_SEPARATOR = "\x1f"


@dataclass(frozen=True)
class BadLine:
    source: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass
class JsonlBatch:
    frame: pl.DataFrame
    bad_lines: list[BadLine] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def _open(path: Path) -> IO[bytes] | gzip.GzipFile:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return path.open("rb")


def read_jsonl(
    path: Path,
    fields: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    values: bool = False,
) -> Iterator[JsonlBatch]:
    """Batches of at most `batch_size` lines of `path` (see the module docstring). Raises
    `OSError` (or `EOFError`/`gzip.BadGzipFile`) when the file cannot be read."""
    wanted = sorted(set(fields) - {RAW_FIELD, LINE_FIELD, VALUES_FIELD})
    source = str(path)
    with _open(path) as handle:
        lines: list[tuple[int, bytes]] = []
        for number, raw in enumerate(handle, start=1):
            lines.append((number, raw))
            if len(lines) >= batch_size:
                yield batch_from_lines(source, lines, wanted, values=values)
                lines = []
        if lines:
            yield batch_from_lines(source, lines, wanted, values=values)


def batch_from_lines(
    source: str, lines: list[tuple[int, bytes]], fields: Iterable[str], *, values: bool = False
) -> JsonlBatch:
    """One batch from (line number, JSON text) pairs; `fields` as for `read_jsonl`."""
    wanted = sorted(set(fields) - {RAW_FIELD, LINE_FIELD, VALUES_FIELD})
    columns: dict[str, list[str | None]] = {name: [] for name in wanted}
    raws: list[str] = []
    numbers: list[int] = []
    joined: list[str] = []
    bad: list[BadLine] = []
    for number, raw in lines:
        text = raw.rstrip(b"\r\n")
        if not text.strip():
            continue
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            bad.append(BadLine(source, number, f"invalid JSON: {exc}"))
            continue
        if not isinstance(obj, dict):
            bad.append(BadLine(source, number, f"not a JSON object ({type(obj).__name__})"))
            continue
        for name, column in columns.items():
            column.append(_text(obj.get(name)))
        raws.append(text.decode("utf-8", errors="replace"))
        numbers.append(number)
        if values:
            joined.append(
                _SEPARATOR.join(t for t in (_text(v) for v in obj.values()) if t is not None)
            )
    data: dict[str, Any] = {**columns, RAW_FIELD: raws, LINE_FIELD: numbers}
    schema: dict[str, Any] = dict.fromkeys(wanted, pl.String)
    schema[RAW_FIELD] = pl.String
    schema[LINE_FIELD] = pl.Int64
    if values:
        data[VALUES_FIELD] = joined
        schema[VALUES_FIELD] = pl.String
    return JsonlBatch(pl.DataFrame(data, schema=schema), bad)
