"""Read ArcSight CEF: `CEF:Version|Vendor|Product|Version|Signature ID|Name|Severity|Extension`,
bare or behind a syslog header (RFC 3164, RFC 5424 or a vendor form, parsed by the syslog reader).

Each line becomes one row: `cef.version`, `cef.device_vendor`, `cef.device_product`,
`cef.device_version`, `cef.signature_id`, `cef.name`, `cef.severity` (header fields, `\\|` and
`\\\\` unescaped; an empty field stays ""), one `cef.ext.<key>` column per extension key seen in
the batch (`\\=`, `\\\\`, `\\|`, `\\n`, `\\r` unescaped; a value runs to the space before the next
`key=`, so values may hold spaces; a repeated key keeps its last value), one `cef.label.<label>`
column per custom-field pair (`cs1Label=appName cs1=x` also gives `cef.label.appName` = x; any
`<k>Label` with a `<k>` counts), the syslog header when there is one (`syslog.priority`,
`syslog.facility`, `syslog.severity`, `syslog.timestamp`, `syslog.host`, `syslog.app`,
`syslog.procid`), the ECS columns, `_raw` and `_line`.

Accepted deviations: `CEF: 0` (Barracuda, space after the colon), a missing `|` after Severity
when there is no extension, spaces before the first key. Quarantined: no `CEF:<digits>|`, fewer
than the 7 header fields, extension text that is not `key=value`, a syslog prefix with a bad PRI.
Syslog's `#012`-style octal escapes (rsyslog) are left as written.

ECS: `@timestamp` from `rt`, else `start`, else the syslog header's time (epoch milliseconds,
epoch seconds when below 10^11, ISO 8601, or `MMM dd [yyyy] HH:mm:ss[.SSS] [zone]` read like
syslog stamps: `year`/`tz`/`reference` as for `read_syslog`); `source.ip`/`source.port` from
`src`/`spt`, `destination.ip`/`destination.port` from `dst`/`dpt`, `network.transport` from
`proto` (lower case; 6/17/1 → tcp/udp/icmp), `user.name` from `suser` else `duser`, `host.name`
from `dhost` else `shost`, `url.full` from `request`, `file.hash.sha256` from `fileHash` when it
is 64 hex digits (lower-cased). `-`, `"-"` and "" count as absent for ECS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import polars as pl

from civicshield.detect.readers.base import (
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    ReadResult,
    line_batches,
    with_ecs,
)
from civicshield.detect.readers.syslog import (
    SyslogClock,
    SyslogMessage,
    clock_for,
    parse_syslog_text,
)

__all__ = [
    "DATASET",
    "HEADER_FIELDS",
    "SYSLOG_FIELDS",
    "parse_cef_lines",
    "parse_cef_text",
    "read_cef",
]

DATASET = "cef"
HEADER_FIELDS = (
    "cef.version",
    "cef.device_vendor",
    "cef.device_product",
    "cef.device_version",
    "cef.signature_id",
    "cef.name",
    "cef.severity",
)
SYSLOG_FIELDS = (
    "syslog.priority",
    "syslog.facility",
    "syslog.severity",
    "syslog.timestamp",
    "syslog.host",
    "syslog.app",
    "syslog.procid",
)
_START = re.compile(r"CEF: ?(\d+)\|")
# A header field: text with `\\x` escapes up to an unescaped `|` (unrolled: no per-character
# alternation); six of them at once is the usual case, one by one only for short headers.
_TEXT = r"[^|\\]*(?:\\.[^|\\]*)*"
_FIELD = re.compile(f"({_TEXT})\\|", re.S)
_SIX_FIELDS = re.compile(f"({_TEXT})\\|" * 6, re.S)
_LAST_FIELD = re.compile(_TEXT, re.S)
_HEADER_UNESCAPE = re.compile(r"\\([\\|])")
# `re.split` on the separator + key: [text before, key1, value1, key2, value2, …] in one C call.
# Split on " " + text: the added space stands for the start, cheaper than `(?:^|\s)`.
_KEY = re.compile(r"\s([A-Za-z0-9_][\w.\-\[\]]*)=")
_VALUE_UNESCAPE = re.compile(r"\\([\\=|nr])")
_VALUE_ESCAPES = {"\\": "\\", "=": "=", "|": "|", "n": "\n", "r": "\r"}
_EPOCH = re.compile(r"\d{1,15}")
_TRANSPORTS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "ipv6-icmp"}

Row = tuple[tuple[str, ...], dict[str, str], tuple[str | None, ...], datetime | None]


def _header_text(value: str) -> str:
    return _HEADER_UNESCAPE.sub(r"\1", value) if "\\" in value else value


def _value_text(value: str) -> str:
    if "\\" not in value:
        return value
    return _VALUE_UNESCAPE.sub(lambda m: _VALUE_ESCAPES[m.group(1)], value)


def _extension(text: str) -> dict[str, str] | str:
    """`key=value …` → {key: value}, or why it is not an extension."""
    parts = _KEY.split(" " + text)
    if len(parts) == 1:
        return {} if not text.strip() else "extension: no key=value pair"
    if parts[0].strip():
        return "extension: text before the first key=value pair"
    values = parts[2::2]
    if "\\" in text:
        values = [_value_text(v) for v in values]
    return dict(zip(parts[1::2], values, strict=True))


def _time(value: str | None, clock: SyslogClock) -> datetime | None:
    if not value:
        return None
    if _EPOCH.fullmatch(value):
        number = int(value)
        try:
            return datetime.fromtimestamp(number / (1 if number < 10**11 else 1000), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    kind = "iso" if value[:4].isdigit() else "bsd"
    return clock.time(value, kind)


def parse_cef_text(text: str, clock: SyslogClock) -> Row | str:
    """One decoded line → (header fields, extension, syslog fields, time) or why it is bad."""
    start = _START.search(text)
    if start is None:
        return "no CEF header (expected 'CEF:<version>|')"
    syslog: SyslogMessage | None = None
    prefix = text[: start.start()].rstrip()
    if prefix:
        parsed = parse_syslog_text(prefix, clock)
        if isinstance(parsed, str):
            return f"syslog header: {parsed}"
        syslog = parsed
    fields = [start.group(1)]
    pos = start.end()
    six = _SIX_FIELDS.match(text, pos)
    if six is not None:
        fields += [_header_text(f) for f in six.groups()]
        pos = six.end()
    else:
        while len(fields) < 7 and (m := _FIELD.match(text, pos)) is not None:
            fields.append(_header_text(m.group(1)))
            pos = m.end()
    ext_text = text[pos:]
    if len(fields) == 6 and _LAST_FIELD.fullmatch(ext_text):  # no '|' after Severity
        fields.append(_header_text(ext_text))
        ext_text = ""
    if len(fields) < 7:
        return f"CEF header has {len(fields)} of 7 fields (Version|Vendor|…|Severity|)"
    ext = _extension(ext_text)
    if isinstance(ext, str):
        return ext
    native = syslog.native() if syslog else (None,) * 11
    header = (*native[:3], native[5], native[6], native[7], native[8])
    when = _time(ext.get("rt"), clock) or _time(ext.get("start"), clock)
    return tuple(fields), ext, header, when or (syslog.time if syslog else None)


def parse_cef_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    source: str,
    clock: SyslogClock | None = None,
) -> ReadResult:
    """One batch from (line number, line) pairs; blank lines are not records."""
    clock = clock or SyslogClock()
    rows: list[Row] = []
    raws: list[str] = []
    numbers: list[int] = []
    quarantined: list[Quarantined] = []
    for number, data in lines:
        if not data.strip():
            continue
        text = data.decode("utf-8", errors="replace")
        parsed = parse_cef_text(text, clock)
        if isinstance(parsed, str):
            quarantined.append(Quarantined(source, f"line {number}", parsed, text))
            continue
        rows.append(parsed)
        raws.append(text)
        numbers.append(number)
    return ReadResult(DATASET, _frame(rows, raws, numbers), quarantined)


def _labels(ext: dict[str, str]) -> dict[str, str]:
    return {
        label: ext[key[:-5]]
        for key, label in ext.items()
        if key.endswith("Label") and label and key[:-5] in ext
    }


def _columns(prefix: str, dicts: list[dict[str, str]]) -> dict[str, pl.Series]:
    """One String column per key of any dict (sorted), built by Polars from the dicts."""
    keys = sorted({k for d in dicts for k in d})
    if not keys:
        return {}
    frame = pl.from_dicts(dicts, schema=dict.fromkeys(keys, pl.String()))
    return {prefix + key: frame.get_column(key).alias(prefix + key) for key in keys}


def _frame(rows: list[Row], raws: list[str], numbers: list[int]) -> pl.DataFrame:
    data: dict[str, pl.Series] = {}
    for i, name in enumerate(HEADER_FIELDS):
        data[name] = pl.Series(name, [r[0][i] for r in rows], dtype=pl.String)
    exts = [r[1] for r in rows]
    for name, column in _columns("cef.ext.", exts).items():
        data[name] = column
    for name, column in _columns("cef.label.", [_labels(ext) for ext in exts]).items():
        data[name] = column
    for i, name in enumerate(SYSLOG_FIELDS):
        data[name] = pl.Series(name, [r[2][i] for r in rows], dtype=pl.String)
    data["_time"] = pl.Series([r[3] for r in rows], dtype=pl.Datetime("us", "UTC"))
    frame = pl.DataFrame(data)
    frame = with_ecs(frame, _ecs(frame.columns), DATASET).drop("_time")
    return frame.with_columns(
        pl.Series(RAW_FIELD, raws, dtype=pl.String),
        pl.Series(LINE_FIELD, numbers, dtype=pl.Int64),
    )


def _ecs(columns: list[str]) -> dict[str, pl.Expr]:
    def ext(key: str) -> pl.Expr:
        name = f"cef.ext.{key}"
        if name not in columns:
            return pl.lit(None, dtype=pl.String)
        value = pl.col(name).str.strip_chars()
        return pl.when(value.is_in(["", "-", '"-"'])).then(None).otherwise(value)

    proto = ext("proto").str.to_lowercase()
    sha = ext("fileHash")
    return {
        "@timestamp": pl.col("_time"),
        "source.ip": ext("src"),
        "source.port": ext("spt"),
        "destination.ip": ext("dst"),
        "destination.port": ext("dpt"),
        "network.transport": proto.replace(_TRANSPORTS),
        "user.name": pl.coalesce(ext("suser"), ext("duser")),
        "host.name": pl.coalesce(ext("dhost"), ext("shost")),
        "url.full": ext("request"),
        "file.hash.sha256": pl.when(sha.str.contains(r"^[0-9A-Fa-f]{64}$"))
        .then(sha.str.to_lowercase())
        .otherwise(None),
    }


def read_cef(
    path: Path,
    *,
    batch_size: int = 100_000,
    source: str | None = None,
    year: int | None = None,
    tz: tzinfo = UTC,
    reference: datetime | None = None,
) -> Iterator[ReadResult]:
    """Batches of at most `batch_size` lines of `path` (plain, gzip or zstd); `year`, `tz` and
    `reference` (default: the file's mtime) place yearless stamps as in `read_syslog`. Raises
    `Invalid` when the file cannot be read or decompressed."""
    name = source or str(path)
    clock = clock_for(path, name, year, tz, reference)
    for batch in line_batches(path, name, batch_size):
        yield parse_cef_lines(batch, source=name, clock=clock)
