"""Read syslog: RFC 5424, RFC 3164 (BSD) and the vendor headers network devices really send.

Each line (or datagram, see `parse_syslog_message`) becomes one row: `syslog.priority`,
`syslog.facility` and `syslog.severity` (numeric codes as text, from `<PRI>`), `log.syslog.version`
(`1` for RFC 5424), `syslog.sequence` (Cisco's `1432:` counter), `timestamp` (as written),
`host`, `app`, `procid`, `msgid`, `message`, one `sd.<SD-ID>.<PARAM>` column per structured-data
parameter seen in the batch, `sd` (all structured data as JSON `{"id": {"param": "value"}}`, a
repeated parameter as a list), `syslog.invalid_utf8` (Boolean: the line was not UTF-8 and was
decoded with U+FFFD replacements), the ECS columns (`@timestamp`, `host.name`) and `_raw`/`_line`.

Headers are parsed best-effort (RFC 3164 §4.3.3: a relay keeps what it cannot parse as the
message): a line whose header is not recognised keeps its text in `message`. Only lines that
claim a structure and break it are quarantined: `<PRI>` out of 0..191 or not closed, an RFC 5424
header with missing fields, malformed structured data.

Time: RFC 3164 stamps have no year and no zone. The zone is `tz` (default UTC); a zone
abbreviation other than UTC/GMT/Z is ambiguous and also read in `tz`. The year is `year` when
given, else inferred from a reference time (the file's modification time, or the time a datagram
was received): the year that puts the stamp closest before `reference + 7 days` (so a December
line in a file written in January gets the previous year, and a clock a few days fast is kept).
Without a year or reference, `@timestamp` is null for yearless stamps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import orjson
import polars as pl

from civicshield.core.errors import Invalid
from civicshield.detect.readers.base import (
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    ReadResult,
    line_batches,
    with_ecs,
)

__all__ = [
    "DATASET",
    "NATIVE_FIELDS",
    "SyslogClock",
    "SyslogMessage",
    "line_batches",
    "parse_syslog_lines",
    "parse_syslog_message",
    "parse_syslog_text",
    "read_syslog",
]

DATASET = "syslog"
NATIVE_FIELDS = (
    "syslog.priority",
    "syslog.facility",
    "syslog.severity",
    "log.syslog.version",
    "syslog.sequence",
    "timestamp",
    "host",
    "app",
    "procid",
    "msgid",
    "message",
)
SD_FIELD = "sd"
INVALID_UTF8_FIELD = "syslog.invalid_utf8"

_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_HMS = r"\d\d:\d\d:\d\d(?:\.\d+)?"
_PRI = re.compile(r"<(\d{1,3})>")
_V1_START = re.compile(r"1 (?:-|\d{4}-\d\d-\d\dT)")
_V1 = re.compile(r"1 (-|\d{4}-\d\d-\d\dT\S+) (\S+) (\S+) (\S+) (\S+)(?: |$)")
# Header forms after <PRI>: (pattern, timestamp kind). Group names: seq, host, app, ts, rest.
_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?P<ts>{_MON} +\d{{1,2}}(?: \d{{4}})? {_HMS}) +(?P<rest>.*)", re.S), "bsd"),
    (re.compile(rf"(?P<ts>\d{{4}} {_MON} +\d{{1,2}} {_HMS}) +(?P<rest>.*)", re.S), "bsd"),
    (
        re.compile(rf"(?P<ts>\d{{4}}-\d\d-\d\dT{_HMS}(?:Z|[+-]\d\d:?\d\d)?) +(?P<rest>.*)", re.S),
        "iso",
    ),
    (
        re.compile(rf"(?P<ts>\d{{4}}-\d{{1,2}}-\d{{1,2}} {_HMS}(?:\.\d+)?) +(?P<rest>.*)", re.S),
        "num",
    ),
    # Cisco IOS / IOS-XR: `1432: host: *Jun  1 12:50:26.172 UTC: rest`, `9: h RP/0/CPU0:Mar 1 …`
    (
        re.compile(
            rf"(?P<seq>\d+): (?:(?P<host>[^\s:]+):? )?(?:[A-Z]+/\S+?:)?"
            rf"(?P<ts>[*.]?{_MON} +\d{{1,2}}(?: \d{{4}})? {_HMS}(?: [A-Za-z]{{2,5}})?) ?: ?"
            r"(?P<rest>.*)",
            re.S,
        ),
        "bsd",
    ),
    # NX-OS: `sw01: 2017 Jul 28 14:42:46 UTC: %AUTHPRIV-6-SYSTEM_MSG: …`
    (
        re.compile(
            rf"(?P<host>[^\s:]+): (?P<ts>\d{{4}} {_MON} +\d{{1,2}} {_HMS}(?: [A-Za-z]{{2,5}})?): "
            r"(?P<rest>.*)",
            re.S,
        ),
        "bsd",
    ),
    # Opengear: `host app 2018-Nov- 9 15:41:30 rest`
    (
        re.compile(
            rf"(?P<host>\S+) (?P<app>\S+) (?P<ts>\d{{4}}-{_MON}- ?\d{{1,2}} {_HMS}) (?P<rest>.*)",
            re.S,
        ),
        "num",
    ),
)
_FORTINET = re.compile(r'date=(\d{4}-\d\d-\d\d) time=(\d\d:\d\d:\d\d)(?:.*? devname="?([^"\s]+))?')
_TAG = re.compile(
    r"(?P<app>[^\s\[\]:%][^\s\[\]:]*)(?:\[(?P<pid>[^\]\s]*)\])?(?:: ?|(?<=\])(?: |$))"
)
_TIME_BSD = re.compile(
    r"[*.]?(?:(\d{4}) )?([A-Z][a-z]{2}) +(\d{1,2})(?: (\d{4}))? (\d\d):(\d\d):(\d\d)(\.\d+)?"
    r"(?: ([A-Za-z]+))?"
)
_TIME_NUM = re.compile(
    r"(\d{4})-(\d{1,2}|[A-Z][a-z]{2})- ?(\d{1,2}) (\d\d):(\d\d):(\d\d)(\.\d+)?(?:\.\d+)?"
)
_MONTHS = {m: i for i, m in enumerate(_MON[3:-1].split("|"), start=1)}
_UTC_NAMES = frozenset({"UTC", "GMT", "Z", "UT"})
_SD_ID = re.compile(r'\[([^\s=\]"]+)')
_SD_PARAM = re.compile(r' ([^\s=\]"]+)="((?:[^"\\]|\\.)*)"', re.S)
_SD_UNESCAPE = re.compile(r'\\([\\"\]])')

Structured = dict[str, dict[str, str | list[str]]]
_Parts = tuple[int, int, int, int, int, int]  # month, day, hour, minute, second, µs


@dataclass
class SyslogClock:
    """How yearless / zoneless stamps become UTC instants (see the module docstring)."""

    year: int | None = None
    reference: datetime | None = None
    tz: tzinfo = UTC
    _cache: dict[tuple[str, str], datetime | None] = field(default_factory=dict, repr=False)

    def time(self, text: str, kind: str) -> datetime | None:
        key = (text, kind)
        if key not in self._cache:
            if len(self._cache) > 100_000:  # bounded: a listener lives for months
                self._cache.clear()
            self._cache[key] = self._parse(text, kind)
        return self._cache[key]

    def _parse(self, text: str, kind: str) -> datetime | None:
        try:
            if kind == "iso":
                stamp = datetime.fromisoformat(text)
                return (stamp if stamp.tzinfo else stamp.replace(tzinfo=self.tz)).astimezone(UTC)
            m = (_TIME_BSD if kind == "bsd" else _TIME_NUM).fullmatch(text)
            if m is None:
                return None
            if kind == "bsd":
                y1, mon, day, y2, hh, mm, ss, frac, zone = m.groups()
                year_text = y1 or y2
            else:
                year_text, mon, day, hh, mm, ss, frac = m.groups()
                zone = None
            month = int(mon) if mon.isdigit() else _MONTHS[mon]
            zone_info = UTC if zone in _UTC_NAMES else self.tz
            micro = int((frac[1:] + "000000")[:6]) if frac else 0
            parts: _Parts = (month, int(day), int(hh), int(mm), int(ss), micro)
            if year_text:
                return datetime(int(year_text), *parts, tzinfo=zone_info).astimezone(UTC)
            return self._infer_year(parts, zone_info)
        except (ValueError, KeyError, OverflowError):
            return None  # e.g. Feb 30: the text stays in `timestamp`

    def _infer_year(self, parts: _Parts, zone: tzinfo) -> datetime | None:
        if self.year is not None:
            return datetime(self.year, *parts, tzinfo=zone).astimezone(UTC)
        if self.reference is None:
            return None
        limit = self.reference + timedelta(days=7)
        for year in range(limit.year + 1, limit.year - 8, -1):  # -8: reaches a Feb 29
            try:
                stamp = datetime(year, *parts, tzinfo=zone)
            except ValueError:
                continue
            if stamp <= limit:
                return stamp.astimezone(UTC)
        return None


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    """One parsed syslog message; `time` is `timestamp` as a UTC instant (None if unknown)."""

    priority: int | None = None
    version: str | None = None
    sequence: str | None = None
    timestamp: str | None = None
    time: datetime | None = None
    host: str | None = None
    app: str | None = None
    procid: str | None = None
    msgid: str | None = None
    message: str | None = None
    sd: Structured = field(default_factory=dict)
    invalid_utf8: bool = False

    def native(self) -> tuple[str | None, ...]:
        """The values of `NATIVE_FIELDS`, in order."""
        pri = self.priority
        return (
            None if pri is None else str(pri),
            None if pri is None else str(pri >> 3),
            None if pri is None else str(pri & 7),
            self.version,
            self.sequence,
            self.timestamp,
            self.host,
            self.app,
            self.procid,
            self.msgid,
            self.message,
        )


def _nil(value: str) -> str | None:
    return None if value == "-" else value


def _structured(text: str) -> tuple[Structured, str | None] | str:
    """RFC 5424 STRUCTURED-DATA [SP MSG] → (elements, MSG) or the reason it is malformed."""
    if text == "-" or text.startswith("- "):
        return {}, text[2:] if len(text) > 1 else None
    elements: Structured = {}
    pos = 0
    while pos < len(text) and text[pos] == "[":
        m = _SD_ID.match(text, pos)
        if m is None:
            return f"structured data: bad SD-ID at column {pos + 1}"
        params = elements.setdefault(m.group(1), {})
        pos = m.end()
        while (p := _SD_PARAM.match(text, pos)) is not None:
            name, value = p.group(1), p.group(2)
            if "\\" in value:
                value = _SD_UNESCAPE.sub(r"\1", value)
            old = params.get(name)
            params[name] = (
                value if old is None else [*([old] if isinstance(old, str) else old), value]
            )
            pos = p.end()
        if pos >= len(text) or text[pos] != "]":
            return f"structured data: expected ']' or a PARAM=\"VALUE\" at column {pos + 1}"
        pos += 1
    if not elements:
        return "structured data: expected '-' or '['"
    if pos == len(text):
        return elements, None
    if text[pos] != " ":
        return f"structured data: expected a space before MSG at column {pos + 1}"
    return elements, text[pos + 1 :]


def _header(rest: str) -> tuple[str | None, ...]:
    """Best-effort (sequence, timestamp, kind, host, app, procid, message) of a non-5424 header."""
    for pattern, kind in _FORMS:
        m = pattern.match(rest)
        if m is None:
            continue
        groups = m.groupdict()
        seq, host, app, procid = groups.get("seq"), groups.get("host"), groups.get("app"), None
        tail = groups["rest"]
        if "host" not in groups:  # RFC 3164: HOSTNAME SP TAG[PID]: MSG
            host, _, tail = tail.partition(" ")
            tail = tail.lstrip(" ")
            if host.endswith(":"):  # no HOSTNAME: it was the tag
                tail, host = f"{host} {tail}" if tail else host, None
        if app is None and (t := _TAG.match(tail)) is not None:
            app, procid, tail = t.group("app"), t.group("pid"), tail[t.end() :]
        return seq, groups["ts"], kind, host, app, procid, tail
    if (f := _FORTINET.match(rest)) is not None:
        return None, f"{f.group(1)} {f.group(2)}", "num", f.group(3), None, None, rest
    return None, None, None, None, None, None, rest


def parse_syslog_text(
    text: str, clock: SyslogClock, *, invalid_utf8: bool = False
) -> SyslogMessage | str:
    """One message (already decoded, no line end) → `SyslogMessage`, or why it is malformed."""
    pri: int | None = None
    rest = text
    if text.startswith("<"):
        m = _PRI.match(text)
        if m is None:
            return "invalid PRI: expected '<' 1-3 digits '>'"
        pri = int(m.group(1))
        if pri > 191:
            return f"invalid PRI {pri}: above 191 (facility 23, severity 7)"
        rest = text[m.end() :]
    if _V1_START.match(rest):
        v1 = _V1.match(rest)
        if v1 is None:
            return "RFC 5424 header: expected VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD"
        parsed = _structured(rest[v1.end() :])
        if isinstance(parsed, str):
            return parsed
        sd, msg = parsed
        if msg is not None and msg.startswith("\ufeff"):
            msg = msg[1:]  # the BOM only says "UTF-8" (RFC 5424 §6.4)
        stamp = _nil(v1.group(1))
        return SyslogMessage(
            pri, "1", None, stamp, None if stamp is None else clock.time(stamp, "iso"),
            _nil(v1.group(2)), _nil(v1.group(3)), _nil(v1.group(4)), _nil(v1.group(5)),
            msg, sd, invalid_utf8,
        )  # fmt: skip
    seq, stamp, kind, host, app, procid, msg = _header(rest)
    when = None if stamp is None or kind is None else clock.time(stamp, kind)
    return SyslogMessage(
        pri, None, seq, stamp, when, host, app, procid, None, msg, {}, invalid_utf8
    )


def _decode(data: bytes) -> tuple[str, bool]:
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def parse_syslog_message(
    data: bytes,
    *,
    received_at: datetime,
    year: int | None = None,
    tz: tzinfo = UTC,
    source: str = "syslog",
    position: str = "message",
) -> SyslogMessage | Quarantined:
    """One datagram or TCP frame (its trailing CR/LF/NUL ignored) → `SyslogMessage`, or
    `Quarantined(source, position, reason, text)`. `received_at` (aware) fixes the year of
    RFC 3164 stamps unless `year` is given."""
    text, bad = _decode(data.rstrip(b"\r\n\x00"))
    result = parse_syslog_text(text, SyslogClock(year, received_at, tz), invalid_utf8=bad)
    return Quarantined(source, position, result, text) if isinstance(result, str) else result


def parse_syslog_lines(
    lines: Iterable[tuple[int, bytes]],
    *,
    source: str,
    clock: SyslogClock | None = None,
) -> ReadResult:
    """One batch from (line number, line) pairs; blank lines are not records."""
    clock = clock or SyslogClock()
    rows: list[tuple[str | None, ...]] = []
    times: list[datetime | None] = []
    sds: list[Structured] = []
    flags: list[bool] = []
    raws: list[str] = []
    numbers: list[int] = []
    quarantined: list[Quarantined] = []
    for number, data in lines:
        if not data.strip():
            continue
        text, bad = _decode(data)
        parsed = parse_syslog_text(text, clock, invalid_utf8=bad)
        if isinstance(parsed, str):
            quarantined.append(Quarantined(source, f"line {number}", parsed, text))
            continue
        rows.append(parsed.native())
        times.append(parsed.time)
        sds.append(parsed.sd)
        flags.append(bad)
        raws.append(text)
        numbers.append(number)
    return ReadResult(DATASET, _frame(rows, times, sds, flags, raws, numbers), quarantined)


def _frame(
    rows: list[tuple[str | None, ...]],
    times: list[datetime | None],
    sds: list[Structured],
    flags: list[bool],
    raws: list[str],
    numbers: list[int],
) -> pl.DataFrame:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in NATIVE_FIELDS]
    data: dict[str, pl.Series] = {
        name: pl.Series(name, column, dtype=pl.String)
        for name, column in zip(NATIVE_FIELDS, columns, strict=True)
    }
    keys = sorted({(i, p) for sd in sds for i, params in sd.items() for p in params})
    for sd_id, param in keys:
        values = [sd.get(sd_id, {}).get(param) for sd in sds]
        name = f"sd.{sd_id}.{param}"
        data[name] = pl.Series(
            name, [v if v is None or isinstance(v, str) else v[0] for v in values], dtype=pl.String
        )
    data[SD_FIELD] = pl.Series(
        SD_FIELD, [orjson.dumps(sd).decode() if sd else None for sd in sds], dtype=pl.String
    )
    data[INVALID_UTF8_FIELD] = pl.Series(INVALID_UTF8_FIELD, flags, dtype=pl.Boolean)
    data["_time"] = pl.Series("_time", times, dtype=pl.Datetime("us", "UTC"))
    frame = pl.DataFrame(data)
    frame = with_ecs(frame, {"@timestamp": pl.col("_time"), "host.name": pl.col("host")}, DATASET)
    return frame.drop("_time").with_columns(
        pl.Series(RAW_FIELD, raws, dtype=pl.String),
        pl.Series(LINE_FIELD, numbers, dtype=pl.Int64),
    )


def clock_for(
    path: Path, source: str, year: int | None, tz: tzinfo, reference: datetime | None
) -> SyslogClock:
    """How yearless stamps of `path` are placed: `reference` defaults to the file's mtime."""
    if reference is None:
        try:
            reference = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        except OSError as exc:
            raise Invalid(f"{source}: cannot read the input: {exc}") from exc
    return SyslogClock(year, reference, tz)


def read_syslog(
    path: Path,
    *,
    batch_size: int = 100_000,
    source: str | None = None,
    year: int | None = None,
    tz: tzinfo = UTC,
    reference: datetime | None = None,
) -> Iterator[ReadResult]:
    """Batches of at most `batch_size` lines of `path` (plain, gzip or zstd). Yearless stamps
    take `year`, else the year inferred from `reference` (default: the file's mtime). Raises
    `Invalid` when the file cannot be read or decompressed."""
    name = source or str(path)
    clock = clock_for(path, name, year, tz, reference)
    for batch in line_batches(path, name, batch_size):
        yield parse_syslog_lines(batch, source=name, clock=clock)
