"""Shared by the Zeek TSV and JSON paths: blocks of lines as text, the `ts` conversion and
quarantine, and the ECS columns (see `zeek` for the format)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from civicshield.detect.readers.base import (
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    data_blocks,
    with_ecs,
)

__all__ = [
    "Chunk",
    "Segment",
    "block_of",
    "check_ts",
    "data_blocks",
    "dataset_name",
    "empty_frame",
    "finish",
    "object_block",
    "texts_of",
]

_EPOCH = r"^\d{1,12}(\.\d{1,9})?$"
_BLANK = r"^[ \t\n\r\x0b\x0c]*$"  # what bytes.strip() removes: such lines are skipped
# Consecutive lines: their numbers and their bytes (a block of the file, or caller's pairs).
Segment = tuple[Sequence[int], list[bytes]]
# A segment and its bytes when known: exactly its lines joined by `\n` (JSON goes to Polars as
# such, without joining the lines again), else None.
Chunk = tuple[Sequence[int], list[bytes], bytes | None]


def texts_of(lines: list[bytes]) -> tuple[pl.Series, bool]:
    """The lines as text (invalid UTF-8 replaced) and whether all of them were valid UTF-8."""
    try:  # one check for the whole block; Polars refuses the block if one line is invalid
        return pl.Series(RAW_FIELD, lines, dtype=pl.Binary).cast(pl.String), True
    except pl.exceptions.ComputeError:
        pass
    decoded = [line.decode("utf-8", "replace") for line in lines]
    return pl.Series(RAW_FIELD, decoded, dtype=pl.String), False


def block_of(numbers: Sequence[int], lines: list[bytes]) -> tuple[pl.DataFrame, list[int]]:
    """The non-blank lines of a segment as `_raw`/`_line` rows, and their indices in `lines`."""
    texts, _ = texts_of(lines)
    frame, keep = _non_blank(texts, numbers)
    return frame, list(range(len(lines))) if keep is None else keep.arg_true().to_list()


def object_block(
    numbers: Sequence[int], lines: list[bytes]
) -> tuple[pl.DataFrame, list[bytes] | None, bool]:
    """`block_of` for JSON: the non-blank lines as `_raw`/`_line` rows, those lines (None when
    none was blank) and whether all lines were valid UTF-8."""
    texts, valid = texts_of(lines)
    frame, keep = _non_blank(texts, numbers, objects=True)
    return frame, None if keep is None else [lines[i] for i in keep.arg_true()], valid


def _non_blank(
    texts: pl.Series, numbers: Sequence[int], *, objects: bool = False
) -> tuple[pl.DataFrame, pl.Series | None]:
    """The rows of the non-blank lines and which lines they are (None: all of them). With
    `objects`, lines that all start with `{` are known non-blank: one literal test, no regex."""
    frame = pl.DataFrame([texts, pl.Series(LINE_FIELD, numbers, dtype=pl.Int64)])
    if objects and texts.str.starts_with("{").all():
        return frame, None
    blank = texts.str.contains(_BLANK)
    if not blank.any():
        return frame, None
    return frame.filter(~blank), ~blank


def dataset_name(path: str | None, hint: str | None) -> str:
    return f"zeek.{path or hint or 'unknown'}"


def empty_frame(fields: Iterable[str]) -> pl.DataFrame:
    schema: dict[str, Any] = dict.fromkeys(fields, pl.String)
    return pl.DataFrame(schema={**schema, RAW_FIELD: pl.String, LINE_FIELD: pl.Int64})


def _timestamp(ts: pl.Expr, epoch_only: bool | None = None) -> pl.Expr:
    """Epoch seconds (exact to the microsecond, from the text) or ISO 8601; `epoch_only`
    True/False when every `ts` is known to be epoch/not epoch (one conversion, not two)."""
    parts = ts.str.split_exact(".", 1)
    seconds = parts.struct.field("field_0").cast(pl.Int64, strict=False)
    fraction = parts.struct.field("field_1").fill_null("0").str.pad_end(6, "0").str.slice(0, 6)
    epoch = (seconds * 1_000_000 + fraction.cast(pl.Int64, strict=False)).cast(
        pl.Datetime("us", "UTC")
    )
    iso = ts.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_zone="UTC")
    if epoch_only is None:
        return pl.when(ts.str.contains(_EPOCH)).then(epoch).otherwise(iso)
    return epoch if epoch_only else iso


def check_ts(frame: pl.DataFrame, source: str) -> tuple[pl.DataFrame, list[Quarantined]]:
    if "ts" not in frame.columns:
        return frame.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("@timestamp")), []
    ts = frame.get_column("ts")
    zulu = ts.str.ends_with("Z")  # Zeek's ISO times end so, epoch text never does
    if zulu.any() and zulu.all():
        only: bool | None = False  # decided by a literal test, without the regex pass
    else:
        epoch = ts.str.contains(_EPOCH)
        only = True if epoch.all() else False if not epoch.any() else None
    frame = frame.with_columns(_timestamp(pl.col("ts"), only).alias("@timestamp"))
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


def finish(frame: pl.DataFrame, dataset: str, path: str | None = None) -> pl.DataFrame:
    if "@timestamp" not in frame.columns:
        frame, _ = check_ts(frame, "")
    exprs = _ecs(frame.columns, path)
    exprs["@timestamp"] = pl.col("@timestamp")
    natives = [c for c in frame.columns if c not in (RAW_FIELD, LINE_FIELD, "@timestamp")]
    out = with_ecs(frame, exprs, dataset)
    ecs = [c for c in out.columns if c not in natives and c not in (RAW_FIELD, LINE_FIELD)]
    return out.select(*natives, *ecs, RAW_FIELD, LINE_FIELD)
