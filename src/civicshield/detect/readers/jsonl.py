"""Read JSON Lines (plain or `.gz`) in bounded batches with an explicit schema.

Each batch frame has one `String` column per wanted field (numbers and booleans as text: `4688`,
`1.5`, `true`; nested values as JSON text; absent keys and JSON null are null), `_line` (1-based
line number in the file) and, unless `raw=False`, `_raw` (the line). A wanted name with dots
(`winlog.event_data.Image`) is the key of that name when an event has it, else the nested path.
With `values=True` the frame also has `_values`: every scalar value of the object joined by
`\\x1f` (the engine derives it from `_raw` by itself, only for the rows that need it, so
readers normally leave it out).

Polars' schema inference is never used: it drops keys first seen after the lines it samples.
Each batch is parsed by Polars' JSON reader with the explicit schema; a batch Polars refuses
(a line that is not a JSON object, invalid JSON or UTF-8, a value that does not fit the schema)
is parsed again line by line, so that each bad line is reported as a `BadLine` with its number
and reason and every other line is kept. Blank lines are skipped silently.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import polars as pl

from civicshield.detect.engine.values import scalar_text, values_text

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LINE_FIELD",
    "RAW_FIELD",
    "VALUES_FIELD",
    "BadLine",
    "JsonlBatch",
    "batch_from_lines",
    "read_jsonl",
]

DEFAULT_BATCH_SIZE = 100_000
RAW_FIELD = "_raw"
LINE_FIELD = "_line"
VALUES_FIELD = "_values"
_CHUNK = 1 << 22


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
    raw: bool = True,
) -> Iterator[JsonlBatch]:
    """Batches of at most `batch_size` lines of `path` (see the module docstring). Raises
    `OSError` (or `EOFError`/`gzip.BadGzipFile`) when the file cannot be read."""
    wanted = sorted(set(fields) - {RAW_FIELD, LINE_FIELD, VALUES_FIELD})
    source = str(path)
    with _open(path) as handle:
        lines: list[tuple[int, bytes]] = []
        for number, text in _lines(handle):
            lines.append((number, text))
            if len(lines) >= batch_size:
                yield batch_from_lines(source, lines, wanted, values=values, raw=raw)
                lines = []
        if lines:
            yield batch_from_lines(source, lines, wanted, values=values, raw=raw)


def _lines(handle: IO[bytes] | gzip.GzipFile) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its end) for every non-blank line, read in large chunks."""
    number = 0
    rest = b""
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            break
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for part in parts:
            number += 1
            if part.strip():
                yield number, part.rstrip(b"\r")
    if rest.strip():
        yield number + 1, rest.rstrip(b"\r")


def batch_from_lines(
    source: str,
    lines: list[tuple[int, bytes]],
    fields: Iterable[str],
    *,
    values: bool = False,
    raw: bool = True,
) -> JsonlBatch:
    """One batch from (line number, JSON text) pairs; `fields` as for `read_jsonl`."""
    wanted = sorted(set(fields) - {RAW_FIELD, LINE_FIELD, VALUES_FIELD})
    kept = [(n, t) for n, t in lines if t.strip()]
    frames: list[pl.DataFrame] = []
    bad: list[BadLine] = []
    _split(source, kept, wanted, raw=raw, frames=frames, bad=bad)
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
    if values:
        frame = frame.with_columns(
            pl.Series(
                VALUES_FIELD,
                [values_text(t) for t in frame.get_column(RAW_FIELD)]
                if raw
                else [values_text(t) for t in _kept_texts(kept, frame)],
                dtype=pl.String,
            )
        )
    return JsonlBatch(frame, bad)


def _kept_texts(kept: list[tuple[int, bytes]], frame: pl.DataFrame) -> list[bytes]:
    by_number = dict(kept)
    return [by_number[n] for n in frame.get_column(LINE_FIELD)]


_SLOW_BELOW = 256  # lines: below this, a part Polars refuses is read line by line


def _split(
    source: str,
    part: list[tuple[int, bytes]],
    wanted: list[str],
    *,
    raw: bool,
    frames: list[pl.DataFrame],
    bad: list[BadLine],
) -> None:
    """Read `part` with Polars; when Polars refuses it, halve it and try again, so one bad line
    costs the slow path for a few hundred lines, not for the whole batch."""
    frame = _fast(part, wanted, raw=raw)
    if frame is not None:
        frames.append(frame)
        return
    if len(part) <= _SLOW_BELOW:
        slow = _slow(source, part, wanted, values=False, raw=raw)
        frames.append(slow.frame)
        bad.extend(slow.bad_lines)
        return
    middle = len(part) // 2
    _split(source, part[:middle], wanted, raw=raw, frames=frames, bad=bad)
    _split(source, part[middle:], wanted, raw=raw, frames=frames, bad=bad)


# -- fast path: Polars' JSON reader ---------------------------------------------------------------
def _schema(wanted: list[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The read schema (top-level names as String, dotted names also as nested structs) and the
    nested path of each dotted name."""
    schema: dict[str, Any] = dict.fromkeys(wanted, pl.String)
    paths = {name: name.split(".") for name in wanted if "." in name}
    tree: dict[str, Any] = {}
    for parts in paths.values():
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if node is None:  # `a.b` and `a.b.c` both wanted: read line by line
                return {}, {}
        if node.get(parts[-1]) is not None:
            return {}, {}
        node[parts[-1]] = None

    def dtype(node: dict[str, Any]) -> pl.Struct:
        return pl.Struct({k: pl.String if v is None else dtype(v) for k, v in node.items()})

    for key, node in tree.items():
        if node is None:
            continue
        if key in schema:  # wanted both as a value and as an object: read line by line
            return {}, {}
        schema[key] = dtype(node)
    return schema, paths


def _fast(kept: list[tuple[int, bytes]], wanted: list[str], *, raw: bool) -> pl.DataFrame | None:
    numbers = pl.Series(LINE_FIELD, [n for n, _ in kept], dtype=pl.Int64)
    if not kept:
        return _empty(wanted, raw=raw)
    schema, paths = _schema(wanted)
    if not schema and wanted:
        return None
    try:
        parsed = pl.read_ndjson(b"\n".join(t for _, t in kept), schema=schema)
        texts = pl.Series(RAW_FIELD, [t for _, t in kept], dtype=pl.Binary).cast(pl.String)
    except (pl.exceptions.PolarsError, OverflowError, ValueError):
        return None
    if parsed.height != len(kept):
        return None
    columns: list[pl.Series | pl.Expr] = []
    for name in wanted:
        if name in paths:
            parts = paths[name]
            nested: pl.Expr = pl.col(parts[0])
            for part in parts[1:]:
                nested = nested.struct.field(part)
            literal = pl.col(name) if name in parsed.columns else pl.lit(None, pl.String)
            columns.append(pl.coalesce(literal, nested).alias(name))
        else:
            columns.append(pl.col(name))
    frame = parsed.select(*columns, numbers) if columns else numbers.to_frame()
    if raw:
        frame = frame.with_columns(texts)
    return frame


def _empty(wanted: list[str], *, raw: bool) -> pl.DataFrame:
    schema: dict[str, Any] = dict.fromkeys(wanted, pl.String)
    schema[LINE_FIELD] = pl.Int64
    if raw:
        schema[RAW_FIELD] = pl.String
    return pl.DataFrame(schema=schema)


# -- slow path: line by line, naming each bad line ------------------------------------------------
def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str | int | float | bool):
        return scalar_text(value)
    return json.dumps(value, ensure_ascii=False)  # as Polars writes a nested value


def _lookup(obj: dict[str, Any], name: str) -> Any:
    if name in obj or "." not in name:
        return obj.get(name)
    node: Any = obj
    for part in name.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _slow(
    source: str,
    kept: list[tuple[int, bytes]],
    wanted: list[str],
    *,
    values: bool,
    raw: bool,
) -> JsonlBatch:
    columns: dict[str, list[str | None]] = {name: [] for name in wanted}
    raws: list[str] = []
    numbers: list[int] = []
    joined: list[str | None] = []
    bad: list[BadLine] = []
    for number, text in kept:
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            bad.append(BadLine(source, number, f"invalid JSON: {exc}"))
            continue
        if not isinstance(obj, dict):
            bad.append(BadLine(source, number, f"not a JSON object ({type(obj).__name__})"))
            continue
        for name, column in columns.items():
            column.append(_text(_lookup(obj, name)))
        raws.append(text.decode("utf-8", errors="replace"))
        numbers.append(number)
        if values:
            joined.append(values_text(text))
    data: dict[str, Any] = {**columns, LINE_FIELD: numbers}
    schema: dict[str, Any] = dict.fromkeys(wanted, pl.String)
    schema[LINE_FIELD] = pl.Int64
    if raw:
        data[RAW_FIELD] = raws
        schema[RAW_FIELD] = pl.String
    if values:
        data[VALUES_FIELD] = joined
        schema[VALUES_FIELD] = pl.String
    return JsonlBatch(pl.DataFrame(data, schema=schema), bad)
