"""Sigma correlation rules (specification v2: event_count, value_count, temporal,
temporal_ordered) over the matches of their base rules, in event time, one alert per burst.

    correlations, unsupported = compile_correlations(report.rules)
    fields = correlations[0].fields(base_rule_id)    # columns that rule's matches must carry
    alerts = correlate(correlations, matches)        # one row per correlation alert

`matches` holds one row per base-rule match: `rule_id`, `time` (Datetime, event time),
`event_key` (String, opaque) and a String column per field named by `fields()`. Semantics,
with the specification clauses behind them: `docs/detect-correlation.md`. In short: a window
is [t, t + timespan], anchored at a match; alerts of one correlation and group never overlap
(the next window may only start after the previous alert's window closed).
"""

from __future__ import annotations

import json
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import polars as pl
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)

from civicshield.detect.engine.compiler import Unsupported
from civicshield.detect.sigma.model import RuleInfo

__all__ = [
    "ALERT_SCHEMA",
    "CompiledCorrelation",
    "Condition",
    "CorrelationType",
    "NullGroups",
    "compile_correlations",
    "condition_from_mapping",
    "correlate",
]

CorrelationType = Literal["event_count", "value_count", "temporal", "temporal_ordered"]
ConditionOp = Literal["gt", "gte", "lt", "lte", "eq", "neq"]
NullGroups = Literal["drop", "group"]

ALERT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "rule_id": pl.String,
    "rule_title": pl.String,
    "level": pl.String,
    "author": pl.String,
    "tags": pl.List(pl.String),
    "type": pl.String,
    "group": pl.String,  # JSON object: group-by name (alias or field) -> value
    "first_time": pl.Datetime("us", "UTC"),
    "last_time": pl.Datetime("us", "UTC"),
    "count": pl.Int64,
    "event_keys": pl.List(pl.String),
}

_OPS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
    "neq": operator.ne,
}
_TYPES: dict[SigmaCorrelationType, CorrelationType] = {
    SigmaCorrelationType.EVENT_COUNT: "event_count",
    SigmaCorrelationType.VALUE_COUNT: "value_count",
    SigmaCorrelationType.TEMPORAL: "temporal",
    SigmaCorrelationType.TEMPORAL_ORDERED: "temporal_ordered",
}
_US = 1_000_000  # timespans are compared in microseconds, the resolution of `time`


@dataclass(frozen=True)
class Condition:
    """All bounds must hold (`gt: 100, lte: 200` is the spec's range "101 to 200")."""

    bounds: tuple[tuple[ConditionOp, float], ...]

    def holds(self, count: int) -> bool:
        return all(_OPS[op](count, limit) for op, limit in self.bounds)

    @property
    def sliding(self) -> bool:
        """Only lower bounds (gt, gte): a window may start at any match. With an upper bound
        (lt, lte, eq, neq, ranges) a window starting mid-burst would see only the burst's tail
        and report "few" for every burst, so windows then tile the matches instead."""
        return all(op in ("gt", "gte") for op, _ in self.bounds)

    def __str__(self) -> str:
        return " and ".join(f"{op} {limit:g}" for op, limit in self.bounds)


def condition_from_mapping(mapping: Mapping[str, object]) -> Condition:
    """`{"gte": 3}` or a range `{"gt": 100, "lte": 200}` → `Condition`; `field` is ignored.

    pySigma 2.0.1 rejects ranges at parse time, so this is for callers holding the raw YAML."""
    bounds: list[tuple[ConditionOp, float]] = []
    for key, value in mapping.items():
        if key in ("field", "percentile"):
            continue
        if key not in _OPS:
            raise ValueError(f"unknown correlation condition operator {key!r}")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"correlation condition {key}: {value!r} is not a number")
        bounds.append((cast(ConditionOp, key), float(value)))
    if not bounds:
        raise ValueError("correlation condition has no operator")
    return Condition(tuple(bounds))


@dataclass(frozen=True)
class CompiledCorrelation:
    """One correlation rule ready for `correlate`.

    `base_rules` are rule ids in the rule's listed order (the order temporal_ordered needs);
    `group_fields[base_id]` is the event field read for each `group_by` entry (aliases
    resolved); `value_fields[base_id]` the field whose distinct values value_count counts."""

    rule: RuleInfo
    type: CorrelationType
    base_rules: tuple[str, ...]
    group_by: tuple[str, ...]
    timespan_s: int
    condition: Condition
    generate: bool = False
    value_field: str | None = None
    group_fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    value_fields: Mapping[str, str] = field(default_factory=dict, compare=False)

    def fields(self, base_rule_id: str) -> set[str]:
        """Event fields the matches of `base_rule_id` must carry (empty for other rules)."""
        if base_rule_id not in self.base_rules:
            return set()
        found = set(self.group_fields.get(base_rule_id, ()))
        if base_rule_id in self.value_fields:
            found.add(self.value_fields[base_rule_id])
        return found


class _Reject(Exception):
    """A correlation rule this module cannot evaluate; becomes an `Unsupported`."""


def compile_correlations(
    rules: Sequence[RuleInfo],
) -> tuple[list[CompiledCorrelation], list[Unsupported]]:
    """Compile every `kind == "correlation"` rule of `rules`; references (ids or names) are
    resolved against `rules`, so pass the whole loaded set, base rules included."""
    by_id = {r.id: r for r in rules}
    by_name: dict[str, list[RuleInfo]] = {}
    for info in rules:
        name = getattr(info.sigma, "name", None)
        if name:
            by_name.setdefault(str(name), []).append(info)
    compiled: list[CompiledCorrelation] = []
    unsupported: list[Unsupported] = []
    for info in rules:
        if info.kind != "correlation":
            continue
        try:
            compiled.append(_compile(info, by_id, by_name))
        except _Reject as exc:
            unsupported.append(Unsupported(info, str(exc)))
    return compiled, unsupported


def _compile(
    info: RuleInfo, by_id: Mapping[str, RuleInfo], by_name: Mapping[str, list[RuleInfo]]
) -> CompiledCorrelation:
    rule = info.sigma
    if not isinstance(rule, SigmaCorrelationRule):
        raise _Reject("correlation rule without its parsed pySigma object")
    kind = _TYPES.get(rule.type)
    if kind is None:
        raise _Reject(f"correlation type {rule.type.name.lower()} is not in Sigma spec v2")
    if not isinstance(rule.condition, SigmaCorrelationCondition):
        raise _Reject("extended (boolean) correlation conditions are not supported")
    if rule.rules is None or not rule.rules:
        raise _Reject("correlation rule references no rules")

    def resolve(reference: str) -> RuleInfo:
        if reference in by_id:
            return by_id[reference]
        named = by_name.get(reference, [])
        if len(named) > 1:
            paths = ", ".join(r.path for r in named)
            raise _Reject(f"rule name {reference!r} is ambiguous ({paths})")
        if not named:
            raise _Reject(f"refers to unknown rule {reference!r}")
        return named[0]

    bases: list[str] = []
    for ref in rule.rules:
        target = resolve(ref.reference)
        if target.kind == "correlation":
            raise _Reject(
                f"refers to correlation rule {target.id} ({ref.reference}): "
                "chained correlations are not supported"
            )
        if target.kind != "rule":
            raise _Reject(f"refers to {target.kind} {target.id} ({ref.reference}), not a rule")
        if target.id in bases:
            if kind == "temporal_ordered":
                raise _Reject(f"rule {ref.reference!r} is listed twice in a temporal_ordered list")
            continue
        bases.append(target.id)

    aliases: dict[str, dict[str, str]] = {}  # alias -> base id -> event field
    for alias in rule.aliases.aliases.values():
        mapping: dict[str, str] = {}
        for ref, target_field in alias.mapping.items():
            target = resolve(ref.reference)
            if target.id not in bases:
                raise _Reject(f"alias {alias.alias!r} maps rule {ref.reference!r}, not referenced")
            mapping[target.id] = target_field
        aliases[alias.alias] = mapping

    def event_field(name: str, base: str) -> str:
        # an alias without an entry for this rule falls back to the field of the alias's name
        return aliases.get(name, {}).get(base, name)

    group_by = tuple(rule.group_by or ())
    group_fields = {b: tuple(event_field(g, b) for g in group_by) for b in bases}

    cond = rule.condition
    if cond.percentile is not None:
        raise _Reject("condition 'percentile' belongs to value_percentile, not supported")
    value_field: str | None = None
    value_fields: dict[str, str] = {}
    if kind == "value_count":
        ref_field = cond.fieldref
        if isinstance(ref_field, list):
            if len(ref_field) != 1:
                raise _Reject("value_count over several fields is not supported")
            ref_field = ref_field[0]
        if not ref_field:
            raise _Reject("value_count without condition 'field'")
        value_field = ref_field
        value_fields = {b: event_field(ref_field, b) for b in bases}
    elif cond.fieldref:
        raise _Reject(f"condition 'field' is meaningless for {kind}")

    op = cast(ConditionOp, cond.op.name.lower())
    return CompiledCorrelation(
        rule=info,
        type=kind,
        base_rules=tuple(bases),
        group_by=group_by,
        timespan_s=int(rule.timespan.seconds),
        condition=Condition(((op, float(cond.count)),)),
        generate=bool(rule.generate),
        value_field=value_field,
        group_fields=group_fields,
        value_fields=value_fields,
    )


# --- evaluation --------------------------------------------------------------------------

_POS, _T, _KEY, _VAL = "\x00pos", "\x00t", "\x00key", "\x00val"


def _group_col(i: int) -> str:
    return f"\x00g{i}"


def correlate(
    correlations: Sequence[CompiledCorrelation],
    matches: pl.DataFrame,
    *,
    null_groups: NullGroups = "drop",
) -> pl.DataFrame:
    """Alerts of every correlation over `matches` (see the module docstring), ordered by
    correlation, group, then time. `null_groups="drop"` (default) ignores a match whose
    group-by value is null; `"group"` puts such matches in a group of their own (SQL style)."""
    for column in ("rule_id", "time", "event_key"):
        if column not in matches.columns:
            raise ValueError(f"matches lack the {column!r} column")
    rows: list[dict[str, Any]] = []
    for corr in correlations:
        rows.extend(_alerts(corr, matches, null_groups))
    return pl.DataFrame(rows, schema=ALERT_SCHEMA)


def _normalise(corr: CompiledCorrelation, matches: pl.DataFrame) -> pl.DataFrame | None:
    """One frame of (rule position, time, key, group values, value) over all base rules,
    each base rule's own fields renamed to the correlation's group-by slots."""
    parts: list[pl.DataFrame] = []
    for pos, base in enumerate(corr.base_rules):
        own = matches.filter(pl.col("rule_id") == base)
        if own.height == 0:
            continue
        missing = sorted(corr.fields(base) - set(matches.columns))
        if missing:
            raise ValueError(
                f"correlation {corr.rule.id} needs fields {missing} on matches of rule {base}"
            )
        value = (
            pl.col(corr.value_fields[base]).cast(pl.String)
            if base in corr.value_fields
            else pl.lit(None, dtype=pl.String)
        )
        parts.append(
            own.select(
                pl.lit(pos, dtype=pl.Int64).alias(_POS),
                pl.col("time").dt.convert_time_zone("UTC").alias("time")
                if _has_tz(matches)
                else pl.col("time").dt.replace_time_zone("UTC").alias("time"),
                pl.col("event_key").cast(pl.String).alias(_KEY),
                *(
                    pl.col(f).cast(pl.String).alias(_group_col(i))
                    for i, f in enumerate(corr.group_fields[base])
                ),
                value.alias(_VAL),
            )
        )
    if not parts:
        return None
    frame = pl.concat(parts, how="vertical")
    # a match without event time cannot be placed in any window
    frame = frame.filter(pl.col("time").is_not_null())
    return frame.with_columns(pl.col("time").dt.cast_time_unit("us").dt.epoch("us").alias(_T))


def _has_tz(matches: pl.DataFrame) -> bool:
    dtype = matches.schema["time"]
    return isinstance(dtype, pl.Datetime) and dtype.time_zone is not None


def _alerts(
    corr: CompiledCorrelation, matches: pl.DataFrame, null_groups: NullGroups
) -> Iterator[dict[str, Any]]:
    frame = _normalise(corr, matches)
    if frame is None:
        return
    groups = [_group_col(i) for i in range(len(corr.group_by))]
    if null_groups == "drop" and groups:
        frame = frame.drop_nulls(groups)
    if corr.type == "value_count":
        frame = frame.drop_nulls(_VAL)  # a match without the value adds no distinct value
    if corr.type in ("event_count", "value_count"):
        # one event matching two referenced rules is still one event
        frame = frame.unique([*groups, _KEY, _VAL], keep="first", maintain_order=True)
    if frame.height == 0:
        return
    frame = frame.sort([*groups, _T, _POS], nulls_last=True, maintain_order=True)
    span = corr.timespan_s * _US
    keys = frame[_KEY].to_list()
    times = frame[_T].to_list()
    stamps = frame["time"].to_list()
    positions = frame[_POS].to_list()
    values = frame[_VAL].to_list()
    group_rows = frame.select(groups).rows() if groups else [()] * frame.height
    meta = {
        "rule_id": corr.rule.id,
        "rule_title": corr.rule.title,
        "level": corr.rule.level.value if corr.rule.level else None,
        "author": corr.rule.author,
        "tags": list(corr.rule.tags),
        "type": corr.type,
    }
    start = 0
    while start < len(times):
        stop = start + 1
        while stop < len(times) and group_rows[stop] == group_rows[start]:
            stop += 1
        run = _Run(times[start:stop], positions[start:stop], values[start:stop])
        group = json.dumps(
            dict(zip(corr.group_by, group_rows[start], strict=True)), ensure_ascii=False
        )
        for lo, hi, count in _windows(corr, run, span):
            yield {
                **meta,
                "group": group,
                "first_time": stamps[start + lo],
                "last_time": stamps[start + hi - 1],
                "count": count,
                "event_keys": list(dict.fromkeys(keys[start + lo : start + hi])),
            }
        start = stop


@dataclass
class _Run:
    """The matches of one group, sorted by time (then rule position)."""

    times: list[int]
    positions: list[int]
    values: list[str | None]


def _windows(corr: CompiledCorrelation, run: _Run, span: int) -> Iterator[tuple[int, int, int]]:
    """(first index, end index exclusive, count) of each alert window of one group.

    Candidate windows are [t_i, t_i + span] in time order; the first one whose count satisfies
    the condition fires, and the next candidate starts at the first match after that window
    closed, so alerts never overlap and a burst shorter than the span gives one. A window that
    does not fire is followed by the one at the next match (`Condition.sliding`) or, with an
    upper bound in the condition, by the one at the first match after it closed."""
    times = run.times
    window = _Counter(corr, run)
    sliding = corr.condition.sliding
    i = 0
    while i < len(times):
        end = bisect_right(times, times[i] + span, lo=i)
        count = window.count(i, end)
        if corr.condition.holds(count):
            yield i, end, count
            i = end
        else:
            i = i + 1 if sliding else end


class _Counter:
    """The count of window [lo, hi) for the correlation type. Windows arrive with lo and hi
    never decreasing, so distinct counts are kept incrementally (amortised O(1) per match)."""

    def __init__(self, corr: CompiledCorrelation, run: _Run) -> None:
        self.corr = corr
        self.run = run
        self.lo = self.hi = 0
        self.seen: dict[object, int] = {}
        if corr.type == "temporal_ordered":
            self.by_rule: list[list[int]] = [[] for _ in corr.base_rules]
            for t, pos in zip(run.times, run.positions, strict=True):
                self.by_rule[pos].append(t)

    def count(self, lo: int, hi: int) -> int:
        kind = self.corr.type
        if kind == "event_count":
            return hi - lo
        if kind == "temporal_ordered":
            return self._ordered_prefix(lo, hi)
        items = self.run.values if kind == "value_count" else self.run.positions
        if lo >= self.hi:  # jumped past the previous window: start afresh
            self.seen.clear()
            self.lo = self.hi = lo
        while self.hi < hi:
            item = items[self.hi]
            self.seen[item] = self.seen.get(item, 0) + 1
            self.hi += 1
        while self.lo < lo:
            item = items[self.lo]
            self.seen[item] -= 1
            if not self.seen[item]:
                del self.seen[item]
            self.lo += 1
        return len(self.seen)

    def _ordered_prefix(self, lo: int, hi: int) -> int:
        """How many of the listed rules, from the first, match in order within the window
        (equal times count as in order). Earliest matches leave the most room for the rest."""
        now = self.run.times[lo]
        last = self.run.times[hi - 1]
        done = 0
        for times in self.by_rule:
            j = bisect_left(times, now)
            if j == len(times) or times[j] > last:
                break
            now = times[j]
            done += 1
        return done
