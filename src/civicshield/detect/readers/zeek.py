"""Zeek logs, TSV (the default ASCII writer) and JSON (`LogAscii::use_json`), into frames.

TSV: header lines `#separator` (value escaped, e.g. `\\x09`), `#set_separator`, `#empty_field`,
`#unset_field`, `#path`, `#open`, `#fields`, `#types`, `#close`; a file may hold several header
blocks (a `#` line after data ends the current frame). Columns come from `#fields`, never from
positions. Values: the unset marker (`-`) is null, the empty marker (`(empty)`) is `""`, `\\xNN`
escapes are decoded (as bytes, then UTF-8 with replacement). A set/vector value is the text of
its elements joined by `,`; an element that itself holds `,` keeps it escaped as `\\x2c`, so the
text always splits back into its elements. IoT-23's labelled logs join their last header names
and values with three spaces instead of the separator: such names are split, and so are the
values at that position.

JSON: one object per line; every key seen in the batch becomes a column (numbers and booleans
as their JSON text, arrays joined by `,` as for TSV, objects as JSON text, absent keys null);
`ts` is epoch seconds or ISO 8601. Dataset: `zeek.<#path>` (TSV) or `zeek.<_path>` (JSON),
else `zeek.<file name up to its first dot>`, else `zeek.unknown`.

Speed: the input is read in blocks of whole lines (`_zeek_frames.data_blocks`), each block
decoded and tested for blank and `#` lines by Polars at once; only header lines are handled one
by one. JSON blocks go to Polars' reader as the bytes read, not joined again from their lines.
A JSON batch's keys (`_zeek_json`) come from its first lines and are checked against the
batch's total of `":` (one Polars count); only when the totals differ are lines searched for
more keys. Projection (`fields=`, JSON only): the named keys, `ts`, `_path` and the ECS
sources, no key discovery. Measured on one core, 1M replicated WRCCDC dns events: every key
≈1.3x the line-by-line reader, projection ≈1.8x. Polars' JSON reader is most of the time
(about 0.3–0.4 s per 100,000 dns events here); see `docs/benchmarks.md` for the measured rate.

Quarantine reasons: wrong number of fields, a `ts` that is not a time, a data line before any
`#fields` header or under a broken one, invalid JSON, a JSON value that is not an object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import Any

import polars as pl

from civicshield.core.errors import Invalid
from civicshield.detect.readers._zeek_frames import (
    Chunk,
    Segment,
    block_of,
    check_ts,
    data_blocks,
    dataset_name,
    empty_frame,
    finish,
)
from civicshield.detect.readers._zeek_json import json_batches
from civicshield.detect.readers.base import (
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    ReadResult,
    open_input,
)

__all__ = ["DEFAULT_BATCH_SIZE", "ZeekHeader", "parse_zeek_lines", "read_zeek"]

DEFAULT_BATCH_SIZE = 100_000
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_LABEL_JOIN = "   "  # IoT-23: label columns appended with three spaces


@dataclass(frozen=True)
class ZeekHeader:
    """One TSV header block. `fields` are the column names (IoT-23 composites split);
    `groups[i]` is how many names the i-th separator-delimited value holds (1 normally)."""

    fields: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    path: str | None = None
    separator: str = "\t"
    set_separator: str = ","
    empty_field: str = "(empty)"
    unset_field: str = "-"
    groups: tuple[int, ...] = ()
    error: str | None = None  # why the block cannot be read: its data lines are quarantined

    @property
    def set_columns(self) -> frozenset[str]:
        kinds = ("set[", "vector[", "table[")
        return frozenset(
            n for n, t in zip(self.fields, self.types, strict=False) if t.startswith(kinds)
        )


def read_zeek(
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    source: str | None = None,
    fields: Iterable[str] | None = None,
) -> Iterator[ReadResult]:
    """Frames of at most `batch_size` records from a Zeek TSV or JSON log (plain, gzip, zstd);
    one frame never spans two header blocks. With `fields`, a JSON log is read in projection:
    only those keys, `ts`, `_path` and the ECS sources (TSV always gives every column: its
    split costs the same either way). Raises `Invalid` when the file is not a Zeek log or
    cannot be decompressed."""
    name = source or str(path)
    wanted = None if fields is None else _projection(fields)
    hint = path.name.split(".", 1)[0] or None
    try:
        with open_input(path) as stream:
            blocks = ((range(n, n + len(ls)), ls, data) for n, ls, data in data_blocks(stream))
            yield from _results(blocks, name, hint, batch_size, wanted)
    except (OSError, EOFError) as exc:
        raise Invalid(f"{name}: cannot read the input: {exc}") from exc
    except Exception as exc:  # zstandard.ZstdError has no common base with OSError
        if type(exc).__module__.startswith("zstd"):
            raise Invalid(f"{name}: cannot read the input: {exc}") from exc
        raise


def parse_zeek_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    source: str,
    path_hint: str | None = None,
    fields: Iterable[str] | None = None,
) -> list[ReadResult]:
    """The records of (line number, line) pairs: one `ReadResult` per header block (TSV) or
    per `_path` (JSON). `path_hint` names the log when the input does not; `fields` as for
    `read_zeek`."""
    pairs = list(lines)
    segment: Chunk = ([n for n, _ in pairs], [line for _, line in pairs], None)
    wanted = None if fields is None else _projection(fields)
    return list(_results(iter([segment]), source, path_hint, 1 << 62, wanted))


# The keys the ECS columns and `ts` checks read, and `_path`: a JSON projection has them.
_ECS_SOURCES = ("ts", "_path", "id.orig_h", "src", "id.orig_p", "id.resp_h", "dst",
                "id.resp_p", "p", "username", "user", "sha256", "proto", "query", "uri",
                "host")  # fmt: skip


def _projection(fields: Iterable[str]) -> tuple[str, ...]:
    names = dict.fromkeys([*_ECS_SOURCES, *fields])
    return tuple(n for n in names if n not in (RAW_FIELD, LINE_FIELD))


def _results(
    segments: Iterator[Chunk],
    source: str,
    hint: str | None,
    batch_size: int,
    fields: tuple[str, ...] | None = None,
) -> Iterator[ReadResult]:
    for numbers, lines, data in segments:
        for index, line in enumerate(lines):  # only up to the first line that is not blank
            if not line.strip():
                continue
            first = (numbers[index:], lines[index:], data if index == 0 else None)
            rest = chain([first], segments)
            if line.lstrip().startswith(b"{"):
                yield from json_batches(rest, source, hint, batch_size, fields)
            elif line.startswith(b"#"):
                tsv: Iterator[Segment] = ((n, ls) for n, ls, _ in rest)
                yield from _tsv_batches(tsv, source, hint, batch_size)
            else:
                why = f"line {numbers[index]}: not a Zeek log (no '#' header, no JSON)"
                raise Invalid(f"{source}: {why}")
            return


# -- TSV ------------------------------------------------------------------------------------------
def _unescape(text: bytes) -> str:
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text).decode("utf-8", "replace")


def _header_line(header: ZeekHeader, number: int, line: bytes) -> ZeekHeader:
    """The header after one `#` line; a new `#separator` starts a new block."""
    if line.startswith(b"#separator "):
        return ZeekHeader(separator=_unescape(line[len(b"#separator ") :]) or "\t")
    text = line.decode("utf-8", "replace")
    key, _, value = text.partition(header.separator)
    if key == "#set_separator":
        return replace(header, set_separator=value)
    if key == "#empty_field":
        return replace(header, empty_field=value)
    if key == "#unset_field":
        return replace(header, unset_field=value)
    if key == "#path":
        return replace(header, path=value or None)
    if key == "#fields":
        return _fields(header, number, value.split(header.separator))
    if key == "#types" and header.fields:
        types = tuple(t for part in value.split(header.separator) for t in part.split())
        if len(types) != len(header.fields):
            why = f"line {number}: #types has {len(types)} entries for {len(header.fields)} fields"
            return replace(header, error=why)
        return replace(header, types=types)
    return header  # #open, #close, #types before #fields, unknown comments


def _fields(header: ZeekHeader, number: int, parts: list[str]) -> ZeekHeader:
    names = [name for part in parts for name in part.split(_LABEL_JOIN) if name.strip()]
    names = [name.strip() for name in names]
    groups = tuple(len([n for n in part.split(_LABEL_JOIN) if n.strip()]) for part in parts)
    error = None
    if not names or 0 in groups:
        error = f"line {number}: #fields has an empty name"
    elif len(set(names)) != len(names) or {RAW_FIELD, LINE_FIELD} & set(names):
        error = f"line {number}: #fields repeats a name or uses a reserved one"
    return replace(header, fields=tuple(names), groups=groups, types=(), error=error)


def _tsv_batches(
    segments: Iterator[Segment], source: str, hint: str | None, batch_size: int
) -> Iterator[ReadResult]:
    """Whole blocks go to Polars at once; only the `#` lines (found by one vectorised test per
    block) are handled one by one, and each ends the frame before it."""
    header = ZeekHeader()
    pending: list[pl.DataFrame] = []
    count = 0
    for numbers, lines in segments:
        block, kept = block_of(numbers, lines)
        heads = block.get_column(RAW_FIELD).str.starts_with("#").arg_true().to_list()
        at = 0
        for head in [*heads, block.height]:
            if head > at:
                pending.append(block.slice(at, head - at))
                count += head - at
                while count >= batch_size:
                    whole = pl.concat(pending) if len(pending) > 1 else pending[0]
                    yield _tsv_frame(header, whole.head(batch_size), source, hint)
                    pending, count = [whole.slice(batch_size)], whole.height - batch_size
            if head < block.height:
                if count:
                    yield _tsv_frame(header, pl.concat(pending), source, hint)
                pending, count = [], 0
                header = _header_line(header, numbers[kept[head]], lines[kept[head]])
            at = head + 1
    if count:
        yield _tsv_frame(header, pl.concat(pending), source, hint)


def _tsv_frame(header: ZeekHeader, base: pl.DataFrame, source: str, hint: str | None) -> ReadResult:
    """One frame from `_raw`/`_line` rows (non-blank data lines) under one header."""
    dataset = dataset_name(header.path, hint)
    reason = header.error or (None if header.fields else "data line before any #fields header")
    if reason is not None:
        bad = [
            Quarantined(source, f"line {n}", reason, t)
            for t, n in base.select(RAW_FIELD, LINE_FIELD).iter_rows()
        ]
        return ReadResult(dataset, finish(empty_frame(header.fields), dataset), bad)
    want = len(header.groups) - 1
    counted = base.with_columns(
        pl.col(RAW_FIELD).str.count_matches(header.separator, literal=True).alias("_n")
    )
    bad_rows = counted.filter(pl.col("_n") != want)
    quarantined = [
        Quarantined(source, f"line {n}", f"expected {want + 1} fields, found {k + 1}", t)
        for t, n, k in bad_rows.iter_rows()
    ]
    good = counted.filter(pl.col("_n") == want).drop("_n")
    escaped = pl.col(RAW_FIELD).str.contains("\\x", literal=True)
    if header.set_separator != "," or any(g > 1 for g in header.groups):
        escaped = pl.lit(True)  # rare layouts: every row through the exact slow path
    fast, slow = good.filter(~escaped), good.filter(escaped)
    frames = [_split_fast(header, fast)] if fast.height else []
    if slow.height:
        frames.append(_split_slow(header, slow, source, quarantined))
    frame = (
        pl.concat(frames).sort(LINE_FIELD)
        if len(frames) > 1
        else frames[0]
        if frames
        else empty_frame(header.fields)
    )
    frame, late = check_ts(frame, source)
    quarantined.extend(late)
    quarantined.sort(key=lambda q: int(q.position.split()[1]))
    return ReadResult(dataset, finish(frame, dataset, header.path or hint), quarantined)


def _split_fast(header: ZeekHeader, rows: pl.DataFrame) -> pl.DataFrame:
    parts = rows.get_column(RAW_FIELD).str.split_exact(header.separator, len(header.fields) - 1)
    values = parts.struct.rename_fields(list(header.fields)).struct.unnest()
    unset, empty = header.unset_field, header.empty_field
    values = values.select(
        pl.when(pl.col(c) == unset)
        .then(None)
        .when(pl.col(c) == empty)
        .then(pl.lit(""))
        .otherwise(pl.col(c))
        .alias(c)
        for c in header.fields
    )
    return pl.concat([values, rows], how="horizontal")


def _split_slow(
    header: ZeekHeader, rows: pl.DataFrame, source: str, bad: list[Quarantined]
) -> pl.DataFrame:
    """Row by row: escapes, other set separators, IoT-23 composite columns."""
    sets = header.set_columns
    columns: dict[str, list[str | None]] = {name: [] for name in header.fields}
    kept: list[tuple[str, int]] = []
    for raw, number in rows.iter_rows():
        values: list[str] = []
        for part, size in zip(raw.split(header.separator), header.groups, strict=True):
            values.extend(part.split(_LABEL_JOIN, size - 1) if size > 1 else [part])
        if len(values) != len(header.fields):
            why = f"expected {len(header.fields)} fields, found {len(values)}"
            bad.append(Quarantined(source, f"line {number}", why, raw))
            continue
        for name, value in zip(header.fields, values, strict=True):
            columns[name].append(_value(header, value, name in sets))
        kept.append((raw, number))
    data: dict[str, Any] = {
        **columns,
        RAW_FIELD: [r for r, _ in kept],
        LINE_FIELD: [n for _, n in kept],
    }
    return pl.DataFrame(data, schema=empty_frame(header.fields).schema)


def _value(header: ZeekHeader, value: str, is_set: bool) -> str | None:
    if value == header.unset_field:
        return None
    if value == header.empty_field:
        return ""
    if not is_set:
        return _unescape(value.encode("utf-8"))
    items = (_unescape(v.encode("utf-8")) for v in value.split(header.set_separator))
    return ",".join(item.replace(",", "\\x2c") for item in items)
