"""Sigma correlation rules over micro-batches: continuous detection's side of `correlate`.

A correlation's timespan (minutes to an hour) spans many micro-batches, and the events of the
earlier ones are already in the event store. So for the correlations whose base rules matched
in this batch, the base rules are evaluated again over the stored events of the batch's dataset
in [earliest base-rule match of the batch - timespan, latest one], `correlate` runs over those
matches and the batch's own, and only the hits whose window holds an event of this batch are
kept: a burst is reported by the batch that completes it, and a later batch that adds to the
same window reports it again (the alert queue then counts it into the same alert: same rule,
key fields and window), never from stored events alone.

`history(dataset, since, until, columns)` gives the stored events (`columns` None: every
column, for keyword rules); it may return a `pl.LazyFrame`, and then the column choice and a
filter on the group-by values seen in this batch reach the Parquet reader. Limits: only the
batch's own dataset is read back (a correlation whose base rules read several datasets sees
the other datasets' events of this batch only); without `history` a correlation sees this batch
alone, so a burst split across batches is missed; events stored twice are counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl

from civicshield.detect.engine.evaluate import MATCH_SCHEMA, evaluate
from civicshield.detect.engine.model import CompiledRuleSet
from civicshield.detect.retro import LOGSOURCE_COLUMNS, prepare_frame, rules_for_dataset

if TYPE_CHECKING:
    from civicshield.detect.engine.correlation import CompiledCorrelation
    from civicshield.detect.live import LiveRules

__all__ = ["History", "correlation_hits"]

History = Callable[[str, datetime, datetime, Sequence[str] | None], pl.DataFrame | pl.LazyFrame]
_TIME = pl.Datetime("us", "UTC")
_BATCH, _STORED = "b:", "h:"  # event key prefixes: this batch's row, a stored row


def correlation_hits(
    live: LiveRules,
    frame: pl.DataFrame,
    dataset: str,
    matches: pl.DataFrame,
    history: History | None = None,
) -> pl.DataFrame:
    """MATCH_SCHEMA rows, one per correlation hit holding an event of `frame` (`event_index`:
    its latest such event), from `matches`, the batch's rule matches (`evaluate_batch`)."""
    from civicshield.detect.engine.correlation import correlate

    seen = set(matches.get_column("rule_id").unique().to_list())
    triggered = [c for c in live.correlations if seen.intersection(c.base_rules)]
    if not triggered:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    bases = {b for c in triggered for b in c.base_rules}
    inputs = [_inputs(live, frame, matches.filter(pl.col("rule_id").is_in(sorted(bases))), _BATCH)]
    if history is not None:
        stored = _stored_inputs(live, triggered, bases, dataset, inputs[0], history)
        if stored is not None:
            inputs.append(stored)
    alerts = correlate(triggered, pl.concat(inputs, how="vertical"))
    rows: list[dict[str, Any]] = []
    for alert in alerts.iter_rows(named=True):
        own = [k for k in alert["event_keys"] if k.startswith(_BATCH)]
        if not own:  # stored events alone: reported by an earlier batch, or never
            continue
        rows.append(
            {
                **{k: alert[k] for k in ("rule_id", "rule_title", "level", "author", "tags")},
                "event_index": int(own[-1].removeprefix(_BATCH)),
            }
        )
    return pl.DataFrame(rows, schema=MATCH_SCHEMA)


def _time(frame: pl.DataFrame) -> pl.Expr:
    """The event time as UTC Datetime (null when the events carry none)."""
    dtype = frame.schema.get("@timestamp")
    if isinstance(dtype, pl.Datetime):
        column = pl.col("@timestamp").dt.cast_time_unit("us")
        if dtype.time_zone is None:
            return column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC")
    if dtype == pl.String:
        return pl.col("@timestamp").str.to_datetime(time_zone="UTC", strict=False).cast(_TIME)
    return pl.lit(None, dtype=_TIME)


def _inputs(live: LiveRules, events: pl.DataFrame, own: pl.DataFrame, prefix: str) -> pl.DataFrame:
    """What `correlate` reads of each base-rule match: rule id, key, time and fields (text)."""
    rows = own.get_column("event_index")
    return events.select(
        pl.format(f"{prefix}{{}}", rows.cast(pl.String)).alias("event_key"),
        _time(events).gather(rows).alias("time"),
        *(
            (
                pl.col(column).gather(rows).cast(pl.String)
                if column in events.columns
                else pl.lit(None, dtype=pl.String)
            ).alias(name)
            for name, column in sorted(live.fields.items())
        ),
    ).with_columns(own.get_column("rule_id").alias("rule_id"))


def _stored_inputs(
    live: LiveRules,
    triggered: list[CompiledCorrelation],
    bases: set[str],
    dataset: str,
    batch: pl.DataFrame,
    history: History,
) -> pl.DataFrame | None:
    """The base rules' matches over the stored events the triggered correlations may need."""
    times = batch.get_column("time").drop_nulls()
    if times.is_empty():
        return None
    rules = live.evaluated if live.evaluated is not None else live.ruleset
    base = CompiledRuleSet(rules=[r for r in rules.rules if r.rule.id in bases])
    first, until = times.min(), times.max()
    assert isinstance(first, datetime) and isinstance(until, datetime)
    since = first - timedelta(seconds=max(c.timespan_s for c in triggered))
    wanted: list[str] | None = None
    if not base.needs_values:  # keyword rules search every stored value: read them all
        wanted = sorted(
            (set(base.fields) | set(live.fields.values()) | set(LOGSOURCE_COLUMNS))
            | {"@timestamp", "_line"}
        )
    found = history(dataset, since, until, wanted)
    lazy = found.lazy() if isinstance(found, pl.DataFrame) else found
    names = lazy.collect_schema().names()
    if "@timestamp" not in names:
        return None
    if wanted is not None:
        lazy = lazy.select([c for c in wanted if c in names])
    keep = _group_filter(live, triggered, batch, names)
    if keep is not None:
        lazy = lazy.filter(keep)
    events = lazy.filter(pl.col("@timestamp").is_between(since, until)).collect()
    rules_here = rules_for_dataset(base, dataset, own_tags="logsource.product" in names)
    if events.height == 0 or not rules_here.rules:
        return None
    prepared = prepare_frame(events, dataset, rules_here, values=rules_here.needs_values)
    matches = evaluate(rules_here, prepared)
    if matches.height == 0:
        return None
    return _inputs(live, prepared, matches, _STORED)


def _group_filter(
    live: LiveRules, triggered: list[CompiledCorrelation], batch: pl.DataFrame, names: list[str]
) -> pl.Expr | None:
    """Stored events that may share a group with a base-rule match of this batch: the first
    group-by field among the values this batch has (None: no filter possible)."""
    keep: pl.Expr | None = None
    for corr in triggered:
        if not corr.group_by:
            return None  # one group: every stored base-rule match counts
        # the first group-by value of the batch's matches, whichever base rule gave it
        values: set[str] = set()
        for base in corr.base_rules:
            name = corr.group_fields[base][0]
            own = batch.filter(pl.col("rule_id") == base).get_column(name).drop_nulls()
            values.update(own.to_list())
        part: pl.Expr = pl.lit(False)
        for base in corr.base_rules:
            column = live.fields.get(corr.group_fields[base][0])
            if values and column is not None and column in names:
                part = part | pl.col(column).cast(pl.String).is_in(sorted(values))
        keep = part if keep is None else keep | part
    return keep
