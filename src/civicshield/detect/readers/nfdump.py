"""NetFlow/IPFIX flows as written by `nfdump -o csv` (1.6 and 1.7), into frames.

The first line is the header (`ts,te,td,sa,da,sp,dp,pr,flg,...`); columns are taken from it by
name, never by position, so versions with other field sets read too. Values keep their text as
nfdump wrote it (`cl`/`sl`/`al` space-padded, `flg` as `...AP.S.`); an empty value is null.

nfdump ends the export with a trailer: a line `Summary`, a header
`flows,bytes,packets,avg_bps,avg_pps,avg_bpp` and one line of totals. The trailer (everything
from `Summary` to the end, or to a new `ts,...` header) holds no flows: it is neither a record
nor quarantined; `on_summary` receives it as a dict (header name -> value) when given.

`ts`/`te` are `YYYY-MM-DD hh:mm:ss[.fff]` in the zone nfdump ran in (`TZ`), UTC unless
`timezone` says otherwise. ECS: `ts` -> @timestamp, sa/sp -> source, da/dp -> destination,
`pr` -> network.transport (lowercase; `icmp6`/58 -> `ipv6-icmp`, 6 -> tcp, 17 -> udp, 1 ->
icmp). Quarantine reasons: a wrong number of fields, a `ts` that is not a time, a data line
before the header.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

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

__all__ = ["DATASET", "DEFAULT_BATCH_SIZE", "parse_nfdump_lines", "read_nfdump"]

DATASET = "netflow"
DEFAULT_BATCH_SIZE = 100_000
SummaryHandler = Callable[[dict[str, str]], None]
_TIME = "%Y-%m-%d %H:%M:%S%.f"
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp", "icmp6": "ipv6-icmp"}


def read_nfdump(
    path: Path,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    source: str | None = None,
    timezone: str = "UTC",
    on_summary: SummaryHandler | None = None,
) -> Iterator[ReadResult]:
    """Frames of at most `batch_size` flows (plain, gzip or zstd input). Raises `Invalid` when
    the file does not start with an nfdump CSV header or cannot be decompressed."""
    name = source or str(path)
    try:
        with open_input(path) as stream:
            yield from _batches(iter_lines(stream), name, timezone, on_summary, batch_size)
    except (OSError, EOFError) as exc:
        raise Invalid(f"{name}: cannot read the input: {exc}") from exc
    except Exception as exc:  # zstandard.ZstdError has no common base with OSError
        if type(exc).__module__.startswith("zstd"):
            raise Invalid(f"{name}: cannot read the input: {exc}") from exc
        raise


def parse_nfdump_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    source: str,
    timezone: str = "UTC",
    on_summary: SummaryHandler | None = None,
) -> ReadResult:
    """Every flow of (line number, line) pairs in one result."""
    results = list(_batches(lines, source, timezone, on_summary, 1 << 62))
    if not results:
        return ReadResult(DATASET, _frame([], [], source, timezone, []))
    if len(results) == 1:
        return results[0]
    frame = pl.concat([r.frame for r in results], how="diagonal")
    return ReadResult(DATASET, frame, [q for r in results for q in r.quarantined])


def _is_header(line: bytes) -> bool:
    return line.startswith(b"ts,")


def _batches(
    lines: Iterable[tuple[int, bytes]],
    source: str,
    timezone: str,
    on_summary: SummaryHandler | None,
    batch_size: int,
) -> Iterator[ReadResult]:
    fields: list[str] | None = None
    trailer: list[str] | None = None  # lines after `Summary`
    pending: list[tuple[int, bytes]] = []
    seen = False
    for number, line in lines:
        if not line.strip():
            continue
        if fields is None and not _is_header(line):
            raise Invalid(f"{source}: line {number}: not an nfdump CSV export (no 'ts,' header)")
        if _is_header(line) or line.strip() == b"Summary":
            if pending:
                yield _result(fields or [], pending, source, timezone)
                pending, seen = [], True
            _summary(trailer, on_summary)
            trailer = None
            if _is_header(line):
                fields = line.decode("utf-8", "replace").split(",")
                if len(set(fields)) != len(fields) or {RAW_FIELD, LINE_FIELD} & set(fields):
                    raise Invalid(f"{source}: line {number}: the header repeats a field name")
            else:
                trailer = []
        elif trailer is not None:
            trailer.append(line.decode("utf-8", "replace"))
        else:
            pending.append((number, line))
            if len(pending) >= batch_size:
                yield _result(fields or [], pending, source, timezone)
                pending, seen = [], True
    if pending or (fields and not seen):  # a header with no flows still gives its columns
        yield _result(fields or [], pending, source, timezone)
    _summary(trailer, on_summary)


def _summary(trailer: list[str] | None, on_summary: SummaryHandler | None) -> None:
    if trailer is None or on_summary is None:
        return
    names = trailer[0].split(",") if trailer else []
    values = trailer[1].split(",") if len(trailer) > 1 else []
    on_summary(dict(zip(names, values, strict=False)))


def _result(
    fields: list[str], pending: list[tuple[int, bytes]], source: str, timezone: str
) -> ReadResult:
    bad: list[Quarantined] = []
    frame = _frame(fields, pending, source, timezone, bad)
    return ReadResult(DATASET, frame, bad)


def _frame(
    fields: list[str],
    pending: list[tuple[int, bytes]],
    source: str,
    timezone: str,
    bad: list[Quarantined],
) -> pl.DataFrame:
    base = pl.DataFrame(
        {
            RAW_FIELD: [line.decode("utf-8", "replace") for _, line in pending],
            LINE_FIELD: [n for n, _ in pending],
        },
        schema={RAW_FIELD: pl.String, LINE_FIELD: pl.Int64},
    )
    want = len(fields) - 1
    counted = base.with_columns(pl.col(RAW_FIELD).str.count_matches(",", literal=True).alias("_n"))
    for raw, number, commas in counted.filter(pl.col("_n") != want).iter_rows():
        why = f"expected {want + 1} fields, found {commas + 1}"
        bad.append(Quarantined(source, f"line {number}", why, raw))
    good = counted.filter(pl.col("_n") == want).drop("_n")
    if fields:
        parts = good.get_column(RAW_FIELD).str.split_exact(",", want).struct.rename_fields(fields)
        values = parts.struct.unnest().select(
            pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in fields
        )
        good = pl.concat([values, good], how="horizontal")
    frame = _with_time(good, timezone)
    if "ts" in fields:
        broken = pl.col("ts").is_not_null() & pl.col("@timestamp").is_null()
        for ts, raw, number in frame.filter(broken).select("ts", RAW_FIELD, LINE_FIELD).iter_rows():
            bad.append(Quarantined(source, f"line {number}", f"ts is not a time: {ts!r}", raw))
        frame = frame.filter(~broken)
    bad.sort(key=lambda q: int(q.position.split()[1]))
    return _finish(frame, fields)


def _with_time(frame: pl.DataFrame, timezone: str) -> pl.DataFrame:
    if "ts" not in frame.columns:
        return frame.with_columns(pl.lit(None, pl.Datetime("us", "UTC")).alias("@timestamp"))
    local = pl.col("ts").str.strip_chars().str.to_datetime(_TIME, strict=False, time_unit="us")
    stamp = local.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return frame.with_columns(stamp.dt.convert_time_zone("UTC").alias("@timestamp"))


def _finish(frame: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    have = set(fields)
    exprs: dict[str, pl.Expr] = {"@timestamp": pl.col("@timestamp")}
    for ecs, name in (
        ("source.ip", "sa"),
        ("destination.ip", "da"),
        ("source.port", "sp"),
        ("destination.port", "dp"),
    ):
        if name in have:
            exprs[ecs] = pl.col(name).str.strip_chars()
    if "pr" in have:
        proto = pl.col("pr").str.strip_chars().str.to_lowercase()
        exprs["network.transport"] = proto.replace(_PROTOCOLS)
    out = with_ecs(frame, exprs, DATASET)
    natives: list[Any] = [c for c in fields if c in out.columns]
    ecs_cols = [c for c in out.columns if c not in have and c not in (RAW_FIELD, LINE_FIELD)]
    return out.select(*natives, *ecs_cols, RAW_FIELD, LINE_FIELD)
