"""Generic JSONL or CSV telemetry read through a declarative mapping file (TOML).

The mapping names the dataset, the input format, which source keys to keep, renames, the
ECS columns (each from one source key; `@timestamp` from one or more keys with a format and a
time zone) and static values. Example (`mappings/ton_iot.toml` is a complete one)::

    [dataset]
    name = "ton_iot.fridge"      # event.dataset
    format = "csv"               # "csv" or "jsonl"
    [csv]
    delimiter = ","
    quote = '"'
    header = true                # false: give `columns = ["a", "b"]`
    [fields]
    keep = "all"                 # or a list of source keys
    rename = { type = "attack_type" }
    [ecs]
    "host.name" = "device"       # ECS column = source key (before renames)
    [timestamp]
    fields = ["date", "time"]    # joined with one space
    format = "%d-%b-%y %H:%M:%S" # strptime, or "epoch_s", "epoch_ms", "iso8601"
    timezone = "Australia/Sydney"  # for times without an offset; default UTC
    [static]
    "observer.product" = "TON_IoT"

Values are text as written (CSV: an empty cell is null; JSONL: nested objects flattened to
dotted names as the EVE reader does). A CSV line whose field count differs from the header,
or with a broken quote, is quarantined; a quoted field may not span lines.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from civicshield.core.errors import Invalid
from civicshield.detect.readers.base import (
    ECS_SCHEMA,
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    ReadResult,
    iter_lines,
    open_input,
    with_ecs,
)
from civicshield.detect.readers.eve import read_json_objects

__all__ = ["FieldMapping", "load_mapping", "parse_mapped_lines", "read_mapped"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Dataset(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    format: Literal["csv", "jsonl"]


class _Csv(_Strict):
    delimiter: str = Field(",", min_length=1, max_length=1)
    quote: str = Field('"', min_length=1, max_length=1)
    header: bool = True
    columns: list[str] = []


class _Fields(_Strict):
    keep: Literal["all"] | list[str] = "all"
    rename: dict[str, str] = {}


class _Timestamp(_Strict):
    fields: list[str] = Field(min_length=1)
    format: str = "iso8601"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("format")
    @classmethod
    def _format(cls, value: str) -> str:
        if value not in ("iso8601", "epoch_s", "epoch_ms") and "%" not in value:
            raise ValueError("a strptime pattern (with %), epoch_s, epoch_ms or iso8601")
        return value


class FieldMapping(_Strict):
    """A validated mapping file (see the module docstring)."""

    dataset: _Dataset
    csv: _Csv = _Csv()
    fields: _Fields = _Fields()
    ecs: dict[str, str] = {}
    timestamp: _Timestamp | None = None
    static: dict[str, str] = {}

    @model_validator(mode="after")
    def _check(self) -> FieldMapping:
        for name in self.ecs:
            if name not in ECS_SCHEMA or name in ("@timestamp", "event.dataset"):
                raise ValueError(f"ecs.{name}: not a mapped ECS column ({_ECS_NAMES})")
        if self.dataset.format == "csv" and not self.csv.header and not self.csv.columns:
            raise ValueError("csv.columns: required when csv.header = false")
        return self


_ECS_NAMES = ", ".join(n for n in ECS_SCHEMA if n not in ("@timestamp", "event.dataset"))
_ISO = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.fZ",
        "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")  # fmt: skip


def load_mapping(path: Path) -> FieldMapping:
    """Read and validate a mapping file; `Invalid` names the file and the key or line."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise Invalid(f"{path}: {exc}") from exc  # TOML errors carry "(at line N, column M)"
    try:
        return FieldMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise Invalid(f"{path}: {problems}") from exc


def read_mapped(
    path: Path, mapping: FieldMapping, *, batch_size: int = 100_000, source: str | None = None
) -> Iterator[ReadResult]:
    """Batches of at most `batch_size` lines of `path` (plain, gzip or zstd) read by `mapping`."""
    name = source or str(path)
    header = mapping.csv.columns or None
    try:
        with open_input(path) as stream:
            batch: list[tuple[int, bytes]] = []
            for number, line in iter_lines(stream):
                if mapping.dataset.format == "csv" and header is None:
                    header = _header(name, number, line, mapping)
                    continue
                batch.append((number, line))
                if len(batch) >= batch_size:
                    yield parse_mapped_lines(batch, mapping, source=name, header=header)
                    batch = []
            if batch or header is None:
                yield parse_mapped_lines(batch, mapping, source=name, header=header or [])
    except (OSError, EOFError, ValueError) as exc:
        raise Invalid(f"{name}: cannot read the input: {exc}") from exc


def _header(source: str, number: int, line: bytes, mapping: FieldMapping) -> list[str]:
    row = _split_csv(line.decode("utf-8-sig", errors="replace"), mapping)
    if row is None or len(set(row)) != len(row) or not all(row):
        raise Invalid(f"{source}: line {number}: the CSV header is broken or repeats a name")
    return row


def _split_csv(text: str, mapping: FieldMapping) -> list[str] | None:
    try:
        options = {"delimiter": mapping.csv.delimiter, "quotechar": mapping.csv.quote}
        return next(csv.reader([text], strict=True, **options))  # type: ignore[arg-type]
    except (csv.Error, StopIteration):
        return None


def parse_mapped_lines(
    lines: Iterable[tuple[int, bytes]],
    mapping: FieldMapping,
    *,
    source: str,
    header: list[str] | None = None,
) -> ReadResult:
    """One batch of (line number, text) pairs; CSV needs the `header` names."""
    if mapping.dataset.format == "jsonl":
        frames, quarantined = read_json_objects(lines, source=source)
        frame = frames.get("", _empty([]))
    else:
        frame, quarantined = _csv_frame(lines, mapping, source, header or [])
    return ReadResult(mapping.dataset.name, _apply(frame, mapping), quarantined)


def _csv_frame(
    lines: Iterable[tuple[int, bytes]], mapping: FieldMapping, source: str, header: list[str]
) -> tuple[pl.DataFrame, list[Quarantined]]:
    rows: list[list[str | None]] = []
    raws: list[str] = []
    numbers: list[int] = []
    quarantined: list[Quarantined] = []
    for number, line in lines:
        if not line.strip():
            continue
        raw = line.decode("utf-8", errors="replace")
        row = _split_csv(raw, mapping)
        if row is None or len(row) != len(header):
            found = "a broken quote" if row is None else f"{len(row)} fields"
            reason = f"expected {len(header)} fields, found {found}"
            quarantined.append(Quarantined(source, f"line {number}", reason, raw))
            continue
        rows.append([v or None for v in row])
        raws.append(raw)
        numbers.append(number)
    schema = dict.fromkeys(header, pl.String)
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else _empty(header)
    extra = [pl.Series(RAW_FIELD, raws, pl.String), pl.Series(LINE_FIELD, numbers, pl.Int64)]
    return (frame.with_columns(extra) if rows else frame), quarantined


def _empty(names: list[str]) -> pl.DataFrame:
    return pl.DataFrame(schema={**dict.fromkeys(names, pl.String), RAW_FIELD: pl.String,
                                LINE_FIELD: pl.Int64})  # fmt: skip


def _col(frame: pl.DataFrame, name: str) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, pl.String)


def _apply(frame: pl.DataFrame, mapping: FieldMapping) -> pl.DataFrame:
    exprs = {ecs: _col(frame, key) for ecs, key in mapping.ecs.items()}
    if mapping.timestamp is not None:
        exprs["@timestamp"] = _timestamp(frame, mapping.timestamp)
    statics = {k: pl.lit(v, pl.String) for k, v in mapping.static.items()}
    exprs.update({k: v for k, v in statics.items() if k in ECS_SCHEMA})
    frame = with_ecs(frame, exprs, mapping.dataset.name)
    native = [c for c in frame.columns if c not in ECS_SCHEMA and c not in (RAW_FIELD, LINE_FIELD)]
    keep = native if mapping.fields.keep == "all" else mapping.fields.keep
    renames = mapping.fields.rename
    kept = [_col(frame, k).alias(renames.get(k, k)) for k in keep]
    kept += [v.alias(k) for k, v in statics.items() if k not in ECS_SCHEMA]
    return frame.select(*kept, *ECS_SCHEMA, RAW_FIELD, LINE_FIELD)


def _timestamp(frame: pl.DataFrame, spec: _Timestamp) -> pl.Expr:
    parts = [_col(frame, f) for f in spec.fields]
    text = parts[0] if len(parts) == 1 else pl.concat_str(parts, separator=" ")
    if spec.format in ("epoch_s", "epoch_ms"):
        scale = 1_000_000 if spec.format == "epoch_s" else 1_000
        micros = (text.cast(pl.Float64, strict=False) * scale).round().cast(pl.Int64, strict=False)
        return pl.from_epoch(micros, time_unit="us").dt.replace_time_zone("UTC")
    formats = _ISO if spec.format == "iso8601" else (spec.format,)
    candidates = []
    for f in formats:
        parsed = text.str.to_datetime(f, time_unit="us", strict=False)
        if "%z" not in f:  # no offset in the text: the mapping's zone (`Z` means UTC)
            zone = "UTC" if f.endswith("Z") else spec.timezone
            parsed = parsed.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        candidates.append(parsed.dt.convert_time_zone("UTC"))
    return pl.coalesce(candidates)
