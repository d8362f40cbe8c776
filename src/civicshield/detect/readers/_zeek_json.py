"""Zeek JSON logs (`LogAscii::use_json`): batches of object lines into frames (see `zeek`)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
import polars as pl

from civicshield.detect.engine.values import scalar_text
from civicshield.detect.readers._zeek_frames import (
    Chunk,
    check_ts,
    dataset_name,
    empty_frame,
    finish,
    object_block,
    texts_of,
)
from civicshield.detect.readers.base import LINE_FIELD, RAW_FIELD, Quarantined, ReadResult

__all__ = ["json_batches"]

_KEY = r'"((?:[^"\\]|\\.)*)"\s*:'
_COLON = r'"\s*:'
_SPACED = r'"\s+:'
_GAP = r"[ \t\r]:"  # what a spaced writer puts before `:` (cheap test before _SPACED)
_SAMPLE = 256
_WS = " \t\n\r\x0b\x0c"  # what bytes.strip() removes


def json_batches(
    chunks: Iterator[Chunk],
    source: str,
    hint: str | None,
    batch_size: int,
    fields: tuple[str, ...] | None,
) -> Iterator[ReadResult]:
    batch = _Batch()
    for numbers, lines, data in chunks:  # whole blocks: no Python step per line
        rows, kept, valid = object_block(numbers, lines)
        if kept is not None:  # blank lines dropped: the block's bytes are not its lines'
            lines, data = kept, None
        at = 0
        while at < len(lines):
            piece = lines[at : at + batch_size - len(batch.lines)]
            batch.rows.append(rows.slice(at, len(piece)))
            batch.data.append(_piece_bytes(data, lines, at, len(piece)))
            batch.lines += piece
            batch.valid = batch.valid and (valid or texts_of(piece)[1])
            at += len(piece)
            if len(batch.lines) >= batch_size:
                yield from _json_frames(batch, source, hint, fields)
                batch = _Batch()
    if batch.lines:
        yield from _json_frames(batch, source, hint, fields)


@dataclass
class _Batch:
    """One batch's lines, gathered in pieces (consecutive lines of one block)."""

    rows: list[pl.DataFrame] = field(default_factory=list)  # `_raw`/`_line` of each piece
    data: list[bytes] = field(default_factory=list)  # each piece's lines joined by `\n`
    lines: list[bytes] = field(default_factory=list)
    valid: bool = True  # every line valid UTF-8


def _piece_bytes(data: bytes | None, lines: list[bytes], at: int, count: int) -> bytes:
    """`lines[at : at + count]` joined by `\\n`: from the block's bytes when known (`data`, all
    of `lines` joined), which saves joining them again."""
    if data is None:
        return b"\n".join(lines[at : at + count])
    if at == 0 and count == len(lines):
        return data
    start = sum(map(len, lines[:at])) + at
    return data[start : start + sum(map(len, lines[at : at + count])) + count - 1]


def _json_frames(
    batch: _Batch, source: str, hint: str | None, fields: tuple[str, ...] | None
) -> Iterator[ReadResult]:
    # One chunk (here and from `_read`): later passes cost per chunk (`to_datetime` most), and
    # check_ts gave one anyway.
    rows = pl.concat(batch.rows, rechunk=True) if len(batch.rows) > 1 else batch.rows[0]
    frame = _json_fast(rows, batch.data, fields) if batch.valid else None
    bad: list[Quarantined] = []
    if frame is None:
        numbers = rows.get_column(LINE_FIELD).to_list()
        frame = _json_slow(list(zip(numbers, batch.lines, strict=True)), source, bad)
    if fields is not None:  # projection: exactly these keys, present or not
        missing = [pl.lit(None, pl.String).alias(n) for n in fields if n not in frame.columns]
        frame = frame.with_columns(missing).select(*fields, RAW_FIELD, LINE_FIELD)
    frame, late = check_ts(frame, source)
    bad.extend(late)
    bad.sort(key=lambda q: int(q.position.split()[1]))
    if "_path" not in frame.columns or frame.height == 0:
        dataset = dataset_name(None, hint)
        yield ReadResult(dataset, finish(frame, dataset, hint), bad)
        return
    paths = frame.get_column("_path")
    one = paths.null_count() == 0 and bool((paths == paths[0]).all())
    groups = [frame] if one else frame.partition_by("_path", maintain_order=True)
    for index, group in enumerate(groups):
        path = group.item(0, "_path") or hint
        dataset = dataset_name(path, None)
        yield ReadResult(dataset, finish(group, dataset, path), bad if index == 0 else [])


def _json_fast(
    rows: pl.DataFrame, data: list[bytes], fields: tuple[str, ...] | None = None
) -> pl.DataFrame | None:
    """Polars' JSON reader with an explicit all-String schema over every key of the batch
    (`rows`: its `_raw`/`_line`; `data`: its lines as bytes, in pieces).
    Keys come from the first lines; when the batch has more `":` than values read, lines with
    more `":` than values are searched for keys too, and the batch is read again when they had
    new ones (an unset field is omitted, so later lines can bring keys the first ones lack)."""
    texts = rows.get_column(RAW_FIELD)
    try:
        if not _objects(texts):
            return None
        names = _keys(texts.head(_SAMPLE)) if fields is None else set(fields)
        parsed = _read(data, names)
        if parsed.height != rows.height:
            return None
        if fields is None and not _complete(texts, parsed, names):
            found = parsed.select(
                pl.sum_horizontal(pl.col(n).is_not_null() for n in names)
            ).to_series()
            extra = texts.filter(_colons(texts) > (found if names else 0))
            more = _keys(extra) - names if extra.len() else set()
            if more:
                names |= more
                parsed = _read(data, names)
        if parsed.height != rows.height:
            return None
        parsed = parsed.with_columns(_lists(parsed.get_column(n)) for n in sorted(names))
    except (pl.exceptions.PolarsError, orjson.JSONDecodeError, ValueError):
        return None
    return parsed.with_columns(texts, rows.get_column(LINE_FIELD))


def _complete(texts: pl.Series, parsed: pl.DataFrame, names: set[str]) -> bool:
    """Whether every key of the batch is in `names`, from batch totals: each key a line holds
    writes one `":` (compact writers), and a line never has fewer `":` than values read, so
    equal totals mean no line has a key outside `names`. Spaced writers (`"k" : v`) and JSON
    nulls (a `":` without a value read) take the per-line test instead."""
    # Polars' literal search is memchr-fast; bytes.count/`in` are far slower on `"` patterns.
    # One regex for the three gaps (` :`, `\t:`, `\r:`): a single multi-literal scan.
    if texts.str.contains(_GAP).any() and texts.str.contains(_SPACED).any():
        return False
    written = texts.str.count_matches('":', literal=True).sum()
    read = pl.sum_horizontal(pl.col(n).is_not_null().sum() for n in names) if names else 0
    return int(written) == (int(parsed.select(read).item()) if names else 0)


def _objects(texts: pl.Series) -> bool:
    """Whether every line looks like one JSON object (else the batch goes line by line)."""
    if (texts.str.starts_with("{") & texts.str.ends_with("}")).all():
        return True  # the usual case, without stripping every line
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


def _read(data: list[bytes], names: set[str]) -> pl.DataFrame:
    """One read of every piece (a list of sources): no copy of them joined."""
    sources: list[IO[bytes]] = [io.BytesIO(piece) for piece in data]
    return pl.read_ndjson(sources, schema=dict.fromkeys(sorted(names), pl.String)).rechunk()


_INT = r"(?:0|-?[1-9][0-9]{0,17})"  # integers that json_decode gives back as written
_NUMBERS = rf"^\[(?:{_INT}(?:, {_INT})*)?\]$"


def _lists(column: pl.Series) -> pl.Series:
    """A column with its arrays (as Polars writes them: `[1, 2]`, `["a", "b"]`) joined by `,`.
    Arrays of integers, and of strings without `\\` (so `", "` can only separate elements), are
    joined by string operations; the rest (mixed, nested, escaped) through `json_decode`."""
    arrays = column.str.starts_with("[")
    if not arrays.any():
        return column
    quoted = column.str.starts_with('["')
    strings, inner, commas = quoted, column, False  # no array of strings (TTLs): no tests
    if quoted.any():
        shape = quoted & column.str.ends_with('"]') & ~column.str.contains("\\", literal=True)
        inner = column.str.strip_prefix('["').str.strip_suffix('"]')
        # Counted inside the outer quotes, each `,` in a `", "` means strings only, none holding
        # a `,` (an item `, ` lacks its outer quote there, or shares one with a separator).
        separators = inner.str.count_matches('", "', literal=True)
        strings = shape & (inner.str.count_matches(",", literal=True) == separators)
        if not (strings == shape).all():  # some item holds a `,`, or an array is mixed
            strings = shape & (
                column.str.count_matches(", ", literal=True)
                == column.str.count_matches('", "', literal=True)
            )
            commas = True
    plain = strings | ~arrays
    # the regex only where needed: most array columns hold strings only
    if not plain.all() and not (plain | column.str.contains(_NUMBERS)).all():
        return column.to_frame().select(_joined(pl.col(column.name))).to_series()
    if (strings == arrays).all():  # arrays of strings only: answers, server names…
        items = _string_items(inner, commas)
    elif not strings.any():  # arrays of integers only: TTLs, ports…
        items = _integer_items(column)
    else:
        joined = (
            pl.when(~arrays)
            .then(column)
            .when(strings)
            .then(_string_items(inner, commas))
            .otherwise(_integer_items(column))
        )
        return pl.select(joined).to_series().alias(column.name)
    if arrays.all():  # arrays and nulls only (the usual case): no `when` pass
        return items
    return pl.select(pl.when(arrays).then(items).otherwise(column)).to_series().alias(column.name)


def _string_items(inner: pl.Series, commas: bool) -> pl.Series:
    """`"a", "b,c"` (an array of strings without `\\`, `[` `]` stripped) → `a,b\\x2cc`; without
    `commas` (no item holds a `,`) `", "` only separates: one pass."""
    if not commas:
        return inner.str.replace_all('", "', ",", literal=True)
    return inner.str.replace_all(",", "\\x2c", literal=True).str.replace_all(
        '"\\x2c "', ",", literal=True
    )


# Prefixes and suffixes stripped, not sliced: slicing by characters walks each string.
def _integer_items(column: pl.Series) -> pl.Series:
    """`[1, 2]` → `1,2`."""
    return (
        column.str.strip_prefix("[").str.strip_suffix("]").str.replace_all(", ", ",", literal=True)
    )


def _joined(column: pl.Expr) -> pl.Expr:
    items = column.str.json_decode(pl.List(pl.String)).list.eval(
        pl.element().str.replace_all(",", "\\x2c", literal=True)
    )
    return pl.when(column.str.starts_with("[")).then(items.list.join(",")).otherwise(column)


def _text(value: Any) -> str | None:
    """A value as the batch reader gives it (numbers as Polars writes them: `2230.0` → `2230`)."""
    if isinstance(value, list):
        return ",".join((_text(v) or "").replace(",", "\\x2c") for v in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    return scalar_text(value)


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
    return pl.DataFrame(data, schema=empty_frame(names).schema)
