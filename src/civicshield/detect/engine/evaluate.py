"""Evaluate a compiled rule set over one batch of events (a Polars frame).

Two steps per batch:

1. **Candidates.** For every column some rule has atoms on (`civicshield.detect.engine.atoms`),
   one Aho-Corasick pass over the lower-cased values finds which of all rules' texts occur in
   which rows; joined with the atom table this gives (row, rule) candidate pairs. A rule whose
   atoms are `None` has every row of its log source as candidates.
2. **Exact evaluation.** Each rule's full expression (with its log-source predicate) runs on its
   candidate rows only. Rules of one log source whose candidates overlap a lot are evaluated
   together in one `select` over the union of their rows; others one by one on their own rows,
   whichever costs fewer row evaluations (a `select` call costs about as much as
   `_CALL_COST` row evaluations).

Atoms are necessary conditions, so step 1 never removes a row a rule could match: the result is
the same as running every expression on every row (tested), only faster.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import polars as pl

from civicshield.detect.engine.compiler import CompiledRule, CompiledRuleSet, lower_name
from civicshield.detect.engine.logsources import Route

__all__ = ["MATCH_SCHEMA", "evaluate"]

MATCH_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "rule_id": pl.String,
    "rule_title": pl.String,
    "level": pl.String,
    "author": pl.String,
    "tags": pl.List(pl.String),
    "event_index": pl.Int64,
}
_INDEX = "\x00index"
_TEXT = "\x00text"
_RULE = "\x00rule"
_CALL_COST = 2_000


@dataclass(frozen=True)
class _Plan:
    """Per rule set, built once: each atom column's texts and (text → rule) table."""

    columns: tuple[tuple[str, tuple[str, ...], pl.DataFrame], ...]
    always: tuple[int, ...]  # rules without atoms


_PLANS: dict[int, tuple[CompiledRuleSet, _Plan]] = {}


def _plan(ruleset: CompiledRuleSet) -> _Plan:
    cached = _PLANS.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    by_column: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    always: list[int] = []
    for position, compiled in enumerate(ruleset.rules):
        if compiled.atoms is None:
            always.append(position)
            continue
        for column, text in compiled.atoms:
            by_column[column][text].append(position)
    columns = []
    for column, texts in sorted(by_column.items()):
        pairs = [(text, rule) for text, rules in texts.items() for rule in rules]
        table = pl.DataFrame(
            {_TEXT: [p[0] for p in pairs], _RULE: [p[1] for p in pairs]},
            schema={_TEXT: pl.String, _RULE: pl.UInt32},
        )
        columns.append((column, tuple(sorted(texts)), table))
    plan = _Plan(tuple(columns), tuple(always))
    if len(_PLANS) > 16:  # a process holds few rule sets; keep the memo small
        _PLANS.clear()
    _PLANS[id(ruleset)] = (ruleset, plan)
    return plan


def evaluate(ruleset: CompiledRuleSet, frame: pl.DataFrame) -> pl.DataFrame:
    """Matches of every rule on `frame`: one row per (rule, event), `event_index` being the
    0-based row of `frame`. Fields the frame lacks are treated as absent in every event.
    Each rule only sees the rows of its log source."""
    if frame.height == 0 or not ruleset.rules:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    fields = sorted(ruleset.fields)
    missing = [f for f in fields if f not in frame.columns]
    base = frame.with_columns(pl.lit(None, dtype=pl.String).alias(f) for f in missing)
    base = base.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias(_INDEX),
        *(pl.col(f).cast(pl.String) for f in fields),
    )
    candidates = _candidates(_plan(ruleset), base)
    everything = pl.Series(_INDEX, range(base.height), dtype=pl.UInt32)
    groups: dict[Route, list[tuple[CompiledRule, pl.Series]]] = defaultdict(list)
    for position, compiled in enumerate(ruleset.rules):
        rows = everything if compiled.atoms is None else candidates.get(position)
        if rows is not None:
            groups[compiled.route].append((compiled, rows))
    found: list[tuple[CompiledRule, pl.Series]] = []
    for route, members in groups.items():
        found.extend(_evaluate_group(route, members, base))
    return _matches(found)


def _candidates(plan: _Plan, base: pl.DataFrame) -> dict[int, pl.Series]:
    """Rule position → sorted candidate row indexes (rules with atoms only)."""
    parts: list[pl.LazyFrame] = []
    lazy = base.lazy()
    for column, texts, table in plan.columns:
        if column not in base.columns:
            continue
        # distinct values first: telemetry repeats itself (images, providers, channels)
        values = lazy.select(pl.col(column)).drop_nulls().unique()
        texts_of_value = (
            values.select(
                pl.col(column),
                pl.col(column)
                .str.to_lowercase()
                .str.extract_many(list(texts), overlapping=True)
                .alias(_TEXT),
            )
            .filter(pl.col(_TEXT).list.len() > 0)
            .explode(_TEXT)
            .unique()
            .join(table.lazy(), on=_TEXT)
            .select(column, _RULE)
            .unique()
        )
        parts.append(
            lazy.select(_INDEX, column).join(texts_of_value, on=column).select(_RULE, _INDEX)
        )
    if not parts:
        return {}
    pairs = pl.concat(parts).unique().group_by(_RULE).agg(pl.col(_INDEX).sort()).collect()
    return dict(zip(pairs.get_column(_RULE).to_list(), pairs.get_column(_INDEX), strict=True))


def _evaluate_group(
    route: Route, members: list[tuple[CompiledRule, pl.Series]], base: pl.DataFrame
) -> list[tuple[CompiledRule, pl.Series]]:
    """(rule, matched row indexes) for the rules of one log source, each on its candidates."""
    union = pl.concat([rows for _, rows in members]).unique().sort()
    together = union.len() * len(members)
    apart = sum(rows.len() for _, rows in members) + _CALL_COST * len(members)
    found: list[tuple[CompiledRule, pl.Series]] = []
    if together <= apart:
        fields = sorted(set().union(*(c.fields for c, _ in members)))
        sub = _lowered(base, fields, union)
        routed = sub.filter(route.expr({f: lower_name(f) for f in fields}))
        if routed.height == 0:
            return found
        hits = routed.select(
            pl.col(_INDEX), *((c.expr).alias(str(i)) for i, (c, _) in enumerate(members))
        )
        index = hits.get_column(_INDEX)
        for i, (compiled, _) in enumerate(members):
            mask = hits.get_column(str(i))
            if mask.any():
                found.append((compiled, index.filter(mask)))
        return found
    for compiled, rows in members:
        fields = sorted(compiled.fields)
        part = _lowered(base, fields, rows).filter(
            route.expr({f: lower_name(f) for f in fields}) & compiled.expr
        )
        if part.height:
            found.append((compiled, part.get_column(_INDEX)))
    return found


def _lowered(base: pl.DataFrame, fields: list[str], rows: pl.Series) -> pl.DataFrame:
    """The index, `fields` and their lower-cased copies, for `rows` only."""
    sub = base.select(_INDEX, *fields)
    if rows.len() < base.height:
        sub = sub[rows]
    return sub.with_columns(pl.col(f).str.to_lowercase().alias(lower_name(f)) for f in fields)


def _matches(found: list[tuple[CompiledRule, pl.Series]]) -> pl.DataFrame:
    rows: dict[str, list[object]] = {name: [] for name in MATCH_SCHEMA}
    for compiled, matched in found:
        indexes = matched.to_list()
        count = len(indexes)
        info = compiled.rule
        rows["rule_id"].extend([info.id] * count)
        rows["rule_title"].extend([info.title] * count)
        rows["level"].extend([info.level.value if info.level else None] * count)
        rows["author"].extend([info.author] * count)
        rows["tags"].extend([list(info.tags)] * count)
        rows["event_index"].extend(indexes)
    return pl.DataFrame(rows, schema=MATCH_SCHEMA)
