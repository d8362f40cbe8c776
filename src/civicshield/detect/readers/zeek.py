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

Quarantine reasons: wrong number of fields, a `ts` that is not a time, a data line before any
`#fields` header or under a broken one, invalid JSON, a JSON value that is not an object.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from civicshield.core.errors import Invalid
from civicshield.detect.readers.base import (
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    ReadResult,
    iter_lines,
    open_input,
    with_ecs,
)

__all__ = ["DEFAULT_BATCH_SIZE", "ZeekHeader", "parse_zeek_lines", "read_zeek"]

DEFAULT_BATCH_SIZE = 100_000
_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_LABEL_JOIN = "   "  # IoT-23: label columns appended with three spaces
_EPOCH = r"^\d{1,12}(\.\d{1,9})?$"


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
    path: Path, *, batch_size: int = DEFAULT_BATCH_SIZE, source: str | None = None
) -> Iterator[ReadResult]:
    """Frames of at most `batch_size` records from a Zeek TSV or JSON log (plain, gzip, zstd);
    one frame never spans two header blocks. Raises `Invalid` when the file is not a Zeek log
    or cannot be decompressed."""
    name = source or str(path)
    hint = path.name.split(".", 1)[0] or None
    try:
        with open_input(path) as stream:
            yield from _results(iter_lines(stream), name, hint, batch_size)
    except (OSError, EOFError) as exc:
        raise Invalid(f"{name}: cannot read the input: {exc}") from exc
    except Exception as exc:  # zstandard.ZstdError has no common base with OSError
        if type(exc).__module__.startswith("zstd"):
            raise Invalid(f"{name}: cannot read the input: {exc}") from exc
        raise


def parse_zeek_lines(
    lines: Iterable[tuple[int, bytes]], *, source: str, path_hint: str | None = None
) -> list[ReadResult]:
    """The records of (line number, line) pairs: one `ReadResult` per header block (TSV) or
    per `_path` (JSON). `path_hint` names the log when the input does not."""
    return list(_results(lines, source, path_hint, batch_size=1 << 62))


def _results(
    lines: Iterable[tuple[int, bytes]], source: str, hint: str | None, batch_size: int
) -> Iterator[ReadResult]:
    iterator = iter(lines)
    for number, line in iterator:
        if not line.strip():
            continue
        first = (number, line)
        if line.lstrip().startswith(b"{"):
            yield from _json_batches(first, iterator, source, hint, batch_size)
        elif line.startswith(b"#"):
            yield from _tsv_batches(first, iterator, source, hint, batch_size)
        else:
            raise Invalid(f"{source}: line {number}: not a Zeek log (no '#' header, no JSON)")
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
    first: tuple[int, bytes],
    rest: Iterator[tuple[int, bytes]],
    source: str,
    hint: str | None,
    batch_size: int,
) -> Iterator[ReadResult]:
    header = ZeekHeader()
    pending: list[tuple[int, bytes]] = []
    for number, line in _chain(first, rest):
        if line.startswith(b"#"):
            if pending:
                yield _tsv_frame(header, pending, source, hint)
                pending = []
            header = _header_line(header, number, line)
        elif line.strip():
            pending.append((number, line))
            if len(pending) >= batch_size:
                yield _tsv_frame(header, pending, source, hint)
                pending = []
    if pending:
        yield _tsv_frame(header, pending, source, hint)


def _chain(
    first: tuple[int, bytes], rest: Iterator[tuple[int, bytes]]
) -> Iterator[tuple[int, bytes]]:
    yield first
    yield from rest


def _dataset(path: str | None, hint: str | None) -> str:
    return f"zeek.{path or hint or 'unknown'}"


def _tsv_frame(
    header: ZeekHeader, pending: list[tuple[int, bytes]], source: str, hint: str | None
) -> ReadResult:
    dataset = _dataset(header.path, hint)
    reason = header.error or (None if header.fields else "data line before any #fields header")
    texts = [line.decode("utf-8", "replace") for _, line in pending]
    if reason is not None:
        bad = [
            Quarantined(source, f"line {n}", reason, t)
            for (n, _), t in zip(pending, texts, strict=True)
        ]
        return ReadResult(dataset, _finish(_empty(header.fields), dataset), bad)
    base = pl.DataFrame(
        {RAW_FIELD: texts, LINE_FIELD: [n for n, _ in pending]},
        schema={RAW_FIELD: pl.String, LINE_FIELD: pl.Int64},
    )
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
        else _empty(header.fields)
    )
    frame, late = _check_ts(frame, source)
    quarantined.extend(late)
    quarantined.sort(key=lambda q: int(q.position.split()[1]))
    return ReadResult(dataset, _finish(frame, dataset, header.path or hint), quarantined)


def _empty(fields: Iterable[str]) -> pl.DataFrame:
    schema: dict[str, Any] = dict.fromkeys(fields, pl.String)
    return pl.DataFrame(schema={**schema, RAW_FIELD: pl.String, LINE_FIELD: pl.Int64})


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
    return pl.DataFrame(data, schema=_empty(header.fields).schema)


def _value(header: ZeekHeader, value: str, is_set: bool) -> str | None:
    if value == header.unset_field:
        return None
    if value == header.empty_field:
        return ""
    if not is_set:
        return _unescape(value.encode("utf-8"))
    items = (_unescape(v.encode("utf-8")) for v in value.split(header.set_separator))
    return ",".join(item.replace(",", "\\x2c") for item in items)


# -- timestamps, ECS ------------------------------------------------------------------------------
def _timestamp(ts: pl.Expr) -> pl.Expr:
    """Epoch seconds (exact to the microsecond, from the text) or ISO 8601."""
    parts = ts.str.split_exact(".", 1)
    seconds = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("field_1").fill_null("0").str.pad_end(6, "0").str.slice(0, 6)
    epoch = (seconds * 1_000_000 + fraction.cast(pl.Int64, strict=False)).cast(
        pl.Datetime("us", "UTC")
    )
    iso = ts.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC")
    return pl.when(ts.str.contains(_EPOCH)).then(epoch).otherwise(iso)


def _check_ts(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[Quarantined]]:
    if "ts" not in frame.columns:
        return frame.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("@timestamp")), []
    frame = frame.with_columns(_timestamp(pl.col("ts")).alias("@timestamp"))
    broken = pl.col("ts").is_not_null() & pl.col("@timestamp").is_null()
    bad = [
        Quarantined(source, f"line {n}", f"ts is not a time: {ts!r}", raw)
        for ts, n, raw in frame.filter(broken).select("ts", LINE_FIELD, RAW_FIELD).iter_rows()
    ]
    return (frame.filter(~broken) if bad else frame), bad


def _ecs(columns: list[str], path: str | None) -> dict[str, pl.Expr]:
    have = set(columns)

    def first(*names: str) -> pl.Expr | None:
        found = [pl.col(n) for n in names if n in have]
        return None if not found else found[0] if len(found) == 1 else pl.coalesce(found)

    exprs: dict[str, pl.Expr | None] = {
        "source.ip": first("id.orig_h", "src"),
        "source.port": first("id.orig_p"),
        "destination.ip": first("id.resp_h", "dst"),
        "destination.port": first("id.resp_p", "p"),
        "user.name": first("username", "user"),
        "file.hash.sha256": first("sha256"),
    }
    if "proto" in have:
        exprs["network.transport"] = pl.col("proto").str.to_lowercase()
    if path == "dns":
        exprs["dns.question.name"] = first("query")
    if path == "http" and "uri" in have:
        exprs["url.full"] = _url(pl.col("uri"), first("host"), first("id.resp_h"))
    return {k: v for k, v in exprs.items() if v is not None}


def _url(uri: pl.Expr, host: pl.Expr | None, address: pl.Expr | None) -> pl.Expr:
    """`http://host/uri`; an absolute URI (proxy request) as it is; host falls back to the
    responder's address (IPv6 in brackets); null when the URI is not a path (CONNECT, `*`)."""
    if address is not None:
        bracketed = (
            pl.when(address.str.contains(":", literal=True))
            .then("[" + address + "]")
            .otherwise(address)
        )
        host = bracketed if host is None else pl.coalesce(pl.when(host != "").then(host), bracketed)
    lower = uri.str.to_lowercase()
    absolute = lower.str.starts_with("http://") | lower.str.starts_with("https://")
    joined = pl.lit(None, pl.String) if host is None else "http://" + host + uri
    return pl.when(absolute).then(uri).when(uri.str.starts_with("/")).then(joined)


def _finish(frame: pl.DataFrame, dataset: str, path: str | None = None) -> pl.DataFrame:
    if "@timestamp" not in frame.columns:
        frame, _ = _check_ts(frame, "")
    exprs = _ecs(frame.columns, path)
    exprs["@timestamp"] = pl.col("@timestamp")
    natives = [c for c in frame.columns if c not in (RAW_FIELD, LINE_FIELD, "@timestamp")]
    out = with_ecs(frame, exprs, dataset)
    ecs = [c for c in out.columns if c not in natives and c not in (RAW_FIELD, LINE_FIELD)]
    return out.select(*natives, *ecs, RAW_FIELD, LINE_FIELD)


# -- JSON -----------------------------------------------------------------------------------------
_KEY = r'"((?:[^"\\]|\\.)*)"\s*:'
_COLON = r'"\s*:'
_SPACED = r'"\s+:'
_SAMPLE = 256
_WS = " \t\n\r\x0b\x0c"  # what bytes.strip() removes


def _json_batches(
    first: tuple[int, bytes],
    rest: Iterator[tuple[int, bytes]],
    source: str,
    hint: str | None,
    batch_size: int,
) -> Iterator[ReadResult]:
    rows = [first]
    while True:  # slices of lines, not one Python step per line: this loop is the hot path
        if len(rows) >= batch_size:
            yield from _json_frames(rows, source, hint)
            rows = []
        chunk = list(islice(rest, batch_size - len(rows)))
        if not chunk:
            break
        rows += [row for row in chunk if row[1].strip()]
    if rows:
        yield from _json_frames(rows, source, hint)


def _json_frames(
    rows: list[tuple[int, bytes]], source: str, hint: str | None
) -> Iterator[ReadResult]:
    frame = _json_fast(rows)
    bad: list[Quarantined] = []
    if frame is None:
        frame = _json_slow(rows, source, bad)
    frame, late = _check_ts(frame, source)
    bad.extend(late)
    bad.sort(key=lambda q: int(q.position.split()[1]))
    if "_path" not in frame.columns or frame.height == 0:
        dataset = _dataset(None, hint)
        yield ReadResult(dataset, _finish(frame, dataset, hint), bad)
        return
    groups = frame.partition_by("_path", maintain_order=True)
    for index, group in enumerate(groups):
        path = group.item(0, "_path") or hint
        dataset = _dataset(path, None)
        yield ReadResult(dataset, _finish(group, dataset, path), bad if index == 0 else [])


def _json_fast(rows: list[tuple[int, bytes]]) -> pl.DataFrame | None:
    """Polars' JSON reader with an explicit all-String schema over every key of the batch.
    Keys come from the first lines; a line with more `":` than values read is searched for
    keys too, and the batch is read again when it had new ones (an unset field is omitted,
    so later lines can bring keys the first ones lack)."""
    try:
        lines = [line for _, line in rows]
        texts = pl.Series(RAW_FIELD, lines, dtype=pl.Binary).cast(pl.String)
        if not _objects(texts):
            return None
        data = b"\n".join(lines)
        names = _keys(texts.head(_SAMPLE))
        parsed = _read(data, names)
        found = parsed.select(pl.sum_horizontal(pl.col(n).is_not_null() for n in names)).to_series()
        extra = texts.filter(_colons(texts) > (found if names else 0))
        more = _keys(extra) - names if extra.len() else set()
        if more:
            names |= more
            parsed = _read(data, names)
        if parsed.height != len(rows):
            return None
        lists = [n for n in sorted(names) if parsed.get_column(n).str.starts_with("[").any()]
        parsed = parsed.with_columns(_joined(pl.col(n)) for n in lists)
    except (pl.exceptions.PolarsError, orjson.JSONDecodeError, ValueError):
        return None
    numbers = pl.Series(LINE_FIELD, [n for n, _ in rows], dtype=pl.Int64)
    return parsed.with_columns(texts, numbers)


def _objects(texts: pl.Series) -> bool:
    """Whether every line looks like one JSON object (else the batch goes line by line)."""
    starts = texts.str.strip_chars_start(_WS).str.starts_with("{")
    return bool((starts & texts.str.strip_chars_end(_WS).str.ends_with("}")).all())


def _colons(texts: pl.Series) -> pl.Series:
    """`"` + `:` (spaces between allowed) per line; a literal count when no line has spaces
    there (Zeek writes compact JSON), which is the same number and much cheaper."""
    if texts.str.contains(_SPACED).any():
        return texts.str.count_matches(_COLON)
    return texts.str.count_matches('":', literal=True)


def _keys(texts: pl.Series) -> set[str]:
    found = texts.str.extract_all(_KEY).explode().drop_nulls().unique().to_list()
    keys = {orjson.loads(k[: k.rindex('"') + 1]) for k in found}
    return {k for k in keys if isinstance(k, str)} - {RAW_FIELD, LINE_FIELD}


def _read(data: bytes, names: set[str]) -> pl.DataFrame:
    return pl.read_ndjson(data, schema=dict.fromkeys(sorted(names), pl.String))


def _joined(column: pl.Expr) -> pl.Expr:
    items = column.str.json_decode(pl.List(pl.String)).list.eval(
        pl.element().str.replace_all(",", "\\x2c", literal=True)
    )
    return pl.when(column.str.starts_with("[")).then(items.list.join(",")).otherwise(column)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join((_text(v) or "").replace(",", "\\x2c") for v in value)
    return orjson.dumps(value).decode()


def _json_slow(rows: list[tuple[int, bytes]], source: str, bad: list[Quarantined]) -> pl.DataFrame:
    """Line by line with orjson: each bad line quarantined with its number and reason."""
    records: list[dict[str, str | None]] = []
    kept: list[tuple[str, int]] = []
    for number, line in rows:
        raw = line.decode("utf-8", "replace")
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            bad.append(Quarantined(source, f"line {number}", f"invalid JSON: {exc}", raw))
            continue
        if not isinstance(obj, dict):
            why = f"not a JSON object ({type(obj).__name__})"
            bad.append(Quarantined(source, f"line {number}", why, raw))
            continue
        records.append({k: _text(v) for k, v in obj.items() if k not in (RAW_FIELD, LINE_FIELD)})
        kept.append((raw, number))
    names = sorted({key for record in records for key in record})
    data: dict[str, Any] = {n: [r.get(n) for r in records] for n in names}
    data[RAW_FIELD] = [r for r, _ in kept]
    data[LINE_FIELD] = [n for _, n in kept]
    return pl.DataFrame(data, schema=_empty(names).schema)
