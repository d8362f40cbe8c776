"""Ingest telemetry files: pick the reader, store what reads, quarantine what does not.

`sniff` names the format from the first non-blank line of the (decompressed) input: Zeek TSV
(`#separator`/`#fields`), nfdump CSV (`ts,te,td,sa,…`), CEF (`CEF:` in the line), syslog
(`<PRI>`), or JSON (`event_type` → Suricata EVE, `_path` or `ts`+`uid` → Zeek JSON, anything
else → generic JSON lines). Every input is reported as read / stored / quarantined; nothing is
dropped without a trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl

from civicshield.core.errors import Invalid
from civicshield.detect.eventstore import EventStore
from civicshield.detect.quarantine import QuarantineStore, ReplayReport
from civicshield.detect.readers.base import (
    ReadResult,
    iter_lines,
    line_batches,
    open_input,
    with_ecs,
)
from civicshield.detect.readers.cef import parse_cef_lines, read_cef
from civicshield.detect.readers.eve import parse_eve_lines, read_eve, read_json_objects
from civicshield.detect.readers.mapped import FieldMapping, read_mapped
from civicshield.detect.readers.nfdump import read_nfdump
from civicshield.detect.readers.syslog import parse_syslog_lines, read_syslog
from civicshield.detect.readers.zeek import parse_zeek_lines, read_zeek

__all__ = [
    "FORMATS",
    "REPLAYABLE",
    "STREAMABLE",
    "IngestReport",
    "ingest_file",
    "parse_lines",
    "replay",
    "sniff",
]

FORMATS = ("zeek", "eve", "syslog", "cef", "nfdump", "json", "mapped")
_PRI = re.compile(rb"^<\d{1,3}>")
_SNIFF_LINES = 20


@dataclass
class IngestReport:
    source: str
    format: str
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    datasets: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "format": self.format,
            "read": self.read,
            "stored": self.stored,
            "quarantined": self.quarantined,
            "datasets": self.datasets,
        }


def _first_line(path: Path) -> bytes:
    with open_input(path) as stream:
        for number, line in iter_lines(stream):
            if line.strip():
                return line.strip()
            if number > _SNIFF_LINES:
                break
    return b""


def sniff(path: Path) -> str:
    try:
        line = _first_line(path)
    except (OSError, EOFError) as exc:
        raise Invalid(f"{path}: cannot read it ({exc})") from None
    if line.startswith((b"#separator", b"#fields", b"#path")):
        return "zeek"
    if line.startswith(b"ts,te,td,sa"):
        return "nfdump"
    if b"CEF:" in line[:400]:
        return "cef"
    if _PRI.match(line):
        return "syslog"
    if line.startswith(b"{"):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = {}
        if isinstance(obj, dict):
            if "event_type" in obj:
                return "eve"
            if "_path" in obj or ("ts" in obj and "uid" in obj):
                return "zeek"
        return "json"
    raise Invalid(
        f"{path}: cannot tell the format from its first line; name it with --format "
        f"({', '.join(FORMATS)})"
    )


def _json_results(path: Path, *, dataset: str, batch_size: int) -> Iterator[list[ReadResult]]:
    for batch in line_batches(path, str(path), batch_size):
        yield _json_batch(batch, str(path), dataset)


# Generic JSON: the first of these native fields that a batch has fills each ECS column
# (Windows/Sysmon flattened names, Suricata/Zeek-like names, ECS itself).
_JSON_ECS: dict[str, tuple[str, ...]] = {
    "@timestamp": ("@timestamp", "timestamp", "SystemTime", "UtcTime", "TimeCreated", "time"),
    "host.name": ("host.name", "Computer", "hostname", "host"),
    "user.name": ("user.name", "TargetUserName", "SubjectUserName", "User", "username", "user"),
    "source.ip": ("source.ip", "SourceIp", "IpAddress", "src_ip", "src"),
    "source.port": ("source.port", "SourcePort", "IpPort", "src_port"),
    "destination.ip": ("destination.ip", "DestinationIp", "dest_ip", "dst"),
    "destination.port": ("destination.port", "DestinationPort", "dest_port"),
    "dns.question.name": ("dns.question.name", "QueryName"),
    "url.full": ("url.full", "url"),
    "file.hash.sha256": ("file.hash.sha256", "SHA256", "sha256"),
}
_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")


def json_ecs(columns: list[str]) -> dict[str, pl.Expr]:
    """ECS expressions for generic JSON columns (see `_JSON_ECS`); times are ISO 8601 (a time
    without a zone is UTC, as Sysmon's `UtcTime`)."""
    have = set(columns)
    exprs: dict[str, pl.Expr] = {}
    for target, names in _JSON_ECS.items():
        names = (f"_native.{target}", *names)  # the reader renames ECS-named keys so
        found = [pl.col(n) for n in names if n in have]
        if not found:
            continue
        value = found[0] if len(found) == 1 else pl.coalesce(found)
        if target == "@timestamp":
            text = value.cast(pl.String).str.strip_chars()
            value = pl.coalesce(
                text.str.to_datetime(f, time_unit="us", time_zone="UTC", strict=False)
                for f in _TIME_FORMATS
            )
        elif target == "file.hash.sha256":
            value = value.cast(pl.String).str.to_lowercase()
        exprs[target] = value
    return exprs


def _json_batch(lines: list[tuple[int, bytes]], source: str, dataset: str) -> list[ReadResult]:
    frames, quarantined = read_json_objects(lines, source=source, group=None)
    results = [
        ReadResult(dataset, with_ecs(frame, json_ecs(frame.columns), dataset))
        for frame in frames.values()
    ]
    if quarantined:
        if results:
            results[0].quarantined.extend(quarantined)
        else:
            results.append(ReadResult(dataset, with_ecs(_empty_frame(), {}, dataset), quarantined))
    return results


def _empty_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"_raw": pl.Series([], dtype=pl.String), "_line": pl.Series([], dtype=pl.Int64)}
    )


def _results(
    path: Path,
    fmt: str,
    *,
    mapping: FieldMapping | None,
    dataset: str | None,
    batch_size: int,
) -> Iterator[list[ReadResult]]:
    if fmt == "zeek":
        # One result per batch and header block: read_zeek yields them one at a time.
        yield from ([r] for r in read_zeek(path, batch_size=batch_size))
    elif fmt == "eve":
        yield from ([r] for r in read_eve(path, batch_size=batch_size))
    elif fmt == "syslog":
        yield from ([r] for r in read_syslog(path, batch_size=batch_size))
    elif fmt == "cef":
        yield from ([r] for r in read_cef(path, batch_size=batch_size))
    elif fmt == "nfdump":
        yield from ([r] for r in read_nfdump(path, batch_size=batch_size))
    elif fmt == "mapped":
        if mapping is None:
            raise Invalid("--format mapped needs --mapping FILE (docs/telemetry-readers.md)")
        yield from ([r] for r in read_mapped(path, mapping, batch_size=batch_size))
    elif fmt == "json":
        yield from _json_results(path, dataset=dataset or "json", batch_size=batch_size)
    else:
        raise Invalid(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def ingest_file(
    path: Path,
    store: EventStore,
    quarantine: QuarantineStore,
    *,
    fmt: str | None = None,
    mapping: FieldMapping | None = None,
    dataset: str | None = None,
    batch_size: int = 100_000,
    now: datetime | None = None,
) -> IngestReport:
    """Read `path` with its reader, write each batch to the store, quarantine bad records."""
    chosen = fmt or sniff(path)
    report = IngestReport(str(path), chosen)
    now = now or datetime.now(UTC)
    for results in _results(path, chosen, mapping=mapping, dataset=dataset, batch_size=batch_size):
        for result in results:
            report.read += result.read
            name = dataset if dataset and chosen != "json" else result.dataset
            if result.frame.height:
                store.write(result.frame, name, now=now)
                report.stored += result.frame.height
                report.datasets[name] = report.datasets.get(name, 0) + result.frame.height
            if result.quarantined:
                report.quarantined += quarantine.add(chosen, result.quarantined, now=now)
    return report


def _standalone(fmt: str) -> Callable[[list[tuple[int, bytes]], str], list[ReadResult]] | None:
    if fmt == "eve":
        return lambda lines, source: parse_eve_lines(lines, source=source)
    if fmt == "syslog":
        return lambda lines, source: [parse_syslog_lines(lines, source=source)]
    if fmt == "cef":
        return lambda lines, source: [parse_cef_lines(lines, source=source)]
    if fmt == "json":
        return lambda lines, source: _json_batch(lines, source, "json")
    if fmt == "zeek":  # Zeek JSON lines stand alone; TSV lines need their header (re-ingest)
        return lambda lines, source: parse_zeek_lines(lines, source=source)
    return None


REPLAYABLE = ("eve", "syslog", "cef", "json", "zeek")
STREAMABLE = REPLAYABLE  # formats whose records can be read without their file around them


def parse_lines(
    fmt: str, lines: list[tuple[int, bytes]], *, source: str, dataset: str | None = None
) -> list[ReadResult]:
    """Records received as lines (an HTTP body, syslog messages, a tailed file's new lines)
    read with `fmt`'s reader. Zeek TSV needs its `#fields` header among the lines. `dataset`
    names generic JSON records' dataset (default `json`)."""
    if fmt == "json":
        return _json_batch(lines, source, dataset or "json")
    parse = _standalone(fmt)
    if parse is None:
        raise Invalid(f"{fmt} records cannot be streamed; use one of {', '.join(STREAMABLE)}")
    return parse(lines, source)


def replay(fmt: str, store: EventStore, quarantine: QuarantineStore) -> ReplayReport:
    """Read `fmt`'s quarantined records again with today's reader; store what now reads."""
    parse = _standalone(fmt)
    if parse is None:
        raise Invalid(
            f"{fmt} records are not read one by one (they need their file's header): "
            "ingest the corrected file again instead"
        )

    def write(result: ReadResult) -> None:
        store.write(result.frame, result.dataset)

    return quarantine.replay(fmt, parse, write)
