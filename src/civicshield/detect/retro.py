"""Retro-detection: a compiled Sigma rule set over the events already in the store.

The readers file events under datasets (`zeek.dns`, `suricata.alert`, `syslog`, …) and keep the
device's own field names, which are the names SigmaHQ's rules for those products use (Zeek
`query`, `id.resp_h`, …). What stored events lack is the rule's *log source*: the `tagged` and
`combined` mappings route a rule on the `logsource.product` / `.service` / `.category` columns,
so `dataset_logsource` derives them from the dataset (an event's own value wins, as with
`civicshield detect --logsource`).

Rules whose product is not the dataset's are not run on it (`rules_for_dataset`): `combined`
lets a product-only Windows or Linux rule see every event of its input, which suits one file of
unknown origin but not a Zeek log. Where a dataset's events carry their own `logsource.product`
the whole rule set runs and the tags decide.

Memory is bounded: one Parquet file slice (`batch_size` rows) of one partition at a time, reading
only the columns the rules need plus `@timestamp`, `_line` and `_raw`. No database here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from civicshield.detect.engine.evaluate import MATCH_SCHEMA, RAW_FIELD, evaluate
from civicshield.detect.engine.model import VALUES_FIELD, CompiledRuleSet
from civicshield.detect.engine.values import ESCAPE, ESCAPED_SEPARATOR, SEPARATOR
from civicshield.detect.eventstore import EventStore

__all__ = [
    "LOGSOURCE_COLUMNS",
    "MATCH_COLUMNS",
    "OUTPUT_COLUMNS",
    "RetroBatch",
    "dataset_logsource",
    "prepare_frame",
    "retro_batches",
    "rules_for_dataset",
]

# Spelled as `engine.mappings.LOGSOURCE_FIELDS` (that module imports pySigma; a test keeps
# them equal).
LOGSOURCE_COLUMNS = ("logsource.product", "logsource.service", "logsource.category")
OUTPUT_COLUMNS = ("@timestamp", "_line", RAW_FIELD)
# Datasets of the network readers: they never hold Windows or Linux host telemetry.
_READER_DATASETS = ("zeek.", "suricata.", "syslog", "cef", "netflow")
# Zeek services whose field names are those of SigmaHQ's generic `category` rules
# (`category: dns` rules read `query`, as Zeek's dns.log names it).
_ZEEK_CATEGORIES = {"dns": "dns"}


def dataset_logsource(dataset: str) -> dict[str, str]:
    """The Sigma log source of a stored dataset, as {`logsource.*` column: value}.

    `zeek.<log>` → product `zeek`, service `<log>` (SigmaHQ's `rules/network/zeek` use exactly
    these, e.g. `dns`, `http`, `smb_files`); `zeek.dns` also category `dns` (those rules read
    `query`, Zeek's name). `suricata.<event_type>` → product `suricata`, service `<event_type>`
    (SigmaHQ has no Suricata rules; for your own). `syslog` → service `syslog` only: the dataset
    mixes network devices and servers, and SigmaHQ's `product: linux` syslog rules route on a
    `facility` keyword the reader names `syslog.facility`. `cef`, `netflow` → nothing: SigmaHQ's
    `category: firewall` rule reads `dst_port` / `action`, which neither has. Other datasets
    (generic JSON, Windows) → nothing: they carry their own `Channel`, `EventID` or tags."""
    family, _, kind = dataset.partition(".")
    if family == "zeek" and kind:
        tags = {"logsource.product": "zeek", "logsource.service": kind}
        if kind in _ZEEK_CATEGORIES:
            tags["logsource.category"] = _ZEEK_CATEGORIES[kind]
        return tags
    if family == "suricata" and kind:
        return {"logsource.product": "suricata", "logsource.service": kind}
    if dataset == "syslog":
        return {"logsource.service": "syslog"}
    return {}


def rules_for_dataset(
    ruleset: CompiledRuleSet, dataset: str, *, own_tags: bool = False
) -> CompiledRuleSet:
    """The rules that may run on `dataset`: for a network reader's dataset, those without a
    product or with the dataset's own; every rule where the events declare their own product
    (`own_tags`) or the dataset is not a reader's (generic JSON, Windows)."""
    if own_tags or not dataset.startswith(_READER_DATASETS):
        return ruleset
    product = dataset_logsource(dataset).get("logsource.product")
    return CompiledRuleSet(
        rules=[r for r in ruleset.rules if r.rule.product in (None, product)],
        unsupported=ruleset.unsupported,
    )


@dataclass(frozen=True)
class RetroBatch:
    """One evaluated slice: its events (the columns read, tags added) and the matches, each
    match row with `event_index` into `events` and the event's dataset, day, `@timestamp`,
    `_line` and `_raw`."""

    dataset: str
    day: date
    events: pl.DataFrame
    matches: pl.DataFrame


def retro_batches(
    store: EventStore,
    ruleset: CompiledRuleSet,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    datasets: Sequence[str] | None = None,
    batch_size: int = 100_000,
    columns: Sequence[str] = (),
) -> Iterator[RetroBatch]:
    """Evaluate `ruleset` over the stored events in [since, until], partition by partition and
    file slice by file slice. `columns`: more columns to read when present (correlation
    fields). Yields every slice that was evaluated (matches may be empty)."""
    parts = store.partitions(
        datasets=datasets,
        since=since.astimezone(UTC).date() if since else None,
        until=until.astimezone(UTC).date() if until else None,
    )
    for part in parts:
        for path in sorted(part.path.glob("*.parquet")):
            schema = pl.read_parquet_schema(path)
            own = "logsource.product" in schema
            rules = rules_for_dataset(ruleset, part.dataset, own_tags=own)
            if not rules.rules:
                continue
            yield from _file_batches(
                path, schema, rules, part.dataset, part.day, since, until, batch_size, columns
            )


def _file_batches(
    path: Path,
    schema: dict[str, pl.DataType],
    rules: CompiledRuleSet,
    dataset: str,
    day: date,
    since: datetime | None,
    until: datetime | None,
    batch_size: int,
    extra: Sequence[str],
) -> Iterator[RetroBatch]:
    values = VALUES_FIELD in rules.fields
    wanted = set(rules.fields) | set(OUTPUT_COLUMNS) | set(LOGSOURCE_COLUMNS) | set(extra)
    if values:  # keyword rules search every stored text value of the event
        wanted |= {name for name, dtype in schema.items() if dtype == pl.String}
    read = [name for name in schema if name in wanted and name != VALUES_FIELD]
    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    for offset in range(0, rows, batch_size):
        # one slice of one file in memory at a time (Polars reads only the row groups it needs)
        frame = pl.scan_parquet(path).select(read).slice(offset, batch_size).collect()
        if "@timestamp" in frame.columns:
            if since is not None:
                frame = frame.filter(pl.col("@timestamp") >= since)
            if until is not None:
                frame = frame.filter(pl.col("@timestamp") <= until)
        if frame.height == 0:
            continue
        frame = prepare_frame(frame, dataset, rules, values=values)
        frame = frame.with_columns(
            pl.lit(None, dtype=pl.String).alias(c) for c in extra if c not in frame.columns
        )
        matches = evaluate(rules, frame)
        yield RetroBatch(dataset, day, frame, _located(matches, frame, dataset, day))


def prepare_frame(
    frame: pl.DataFrame, dataset: str, rules: CompiledRuleSet, *, values: bool
) -> pl.DataFrame:
    """The log-source tags (the event's own value wins), null String columns for the rule
    fields the dataset lacks, the output columns, and `_values` for keyword rules."""
    tags = dataset_logsource(dataset)
    stamped = [
        (
            pl.coalesce(pl.col(name), pl.lit(value, dtype=pl.String))
            if name in frame.columns
            else pl.lit(value, dtype=pl.String)
        ).alias(name)
        for name, value in tags.items()
    ]
    texts = [c for c, t in frame.schema.items() if t == pl.String and c != RAW_FIELD]
    absent: dict[str, pl.DataType | type[pl.DataType]] = {
        "@timestamp": pl.Datetime("us", "UTC"),
        "_line": pl.Int64,
        RAW_FIELD: pl.String,
        **{f: pl.String for f in rules.fields if f != VALUES_FIELD},
    }
    frame = frame.with_columns(
        *stamped,
        *(
            pl.lit(None, dtype=t).alias(c)
            for c, t in absent.items()
            if c not in frame.columns and c not in tags
        ),
    )
    if values and VALUES_FIELD not in frame.columns:
        # the stored columns, not `_raw`: a TSV, syslog or CEF line is no JSON object for
        # `values_text`; each value escaped as `values_text` does, so keyword patterns apply
        frame = frame.with_columns(
            pl.concat_str(
                [
                    pl.col(c)
                    .str.replace_all(ESCAPE, ESCAPE + ESCAPE, literal=True)
                    .str.replace_all(SEPARATOR, ESCAPE + ESCAPED_SEPARATOR, literal=True)
                    for c in texts
                ],
                separator=SEPARATOR,
                ignore_nulls=True,
            ).alias(VALUES_FIELD)
        )
    return frame


def _located(matches: pl.DataFrame, events: pl.DataFrame, dataset: str, day: date) -> pl.DataFrame:
    """`matches` with the matched event's dataset, day, `@timestamp`, `_line` and `_raw`."""
    if matches.height == 0:
        return matches.with_columns(
            pl.lit(None, dtype=pl.String).alias("event.dataset"),
            pl.lit(None, dtype=pl.Date).alias("day"),
            *(pl.lit(None, dtype=events.schema[c]).alias(c) for c in OUTPUT_COLUMNS),
        )
    rows = matches.get_column("event_index")
    picked = events.select(pl.col(c).gather(rows) for c in OUTPUT_COLUMNS)
    return pl.concat(
        [
            matches,
            picked.with_columns(
                pl.lit(dataset, dtype=pl.String).alias("event.dataset"),
                pl.lit(day, dtype=pl.Date).alias("day"),
            ).select("event.dataset", "day", *OUTPUT_COLUMNS),
        ],
        how="horizontal",
    )


MATCH_COLUMNS = (*MATCH_SCHEMA, "event.dataset", "day", *OUTPUT_COLUMNS)
