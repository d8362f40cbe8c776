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

from civicshield.detect.engine.model import (
    VALUES_FIELD,
    CompiledRule,
    CompiledRuleSet,
    Route,
    lower_name,
)
from civicshield.detect.engine.values import canonical_json, json_escape, values_text

__all__ = ["MATCH_SCHEMA", "evaluate"]

MATCH_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "rule_id": pl.String,
    "rule_title": pl.String,
    "level": pl.String,
    "author": pl.String,
    "tags": pl.List(pl.String),
    "event_index": pl.Int64,
}
RAW_FIELD = "_raw"  # the event's JSON line, when the reader kept it
_INDEX = "\x00index"
_TEXT = "\x00text"
_RULE = "\x00rule"
_CLAUSE = "\x00clause"
_COUNT = "\x00count"
_KEY = "\x00key"
_N = "\x00rows"
_CALL_COST = 2_000


@dataclass(frozen=True)
class _Plan:
    """Per rule set, built once: each atom column's texts and (text → rule) table."""

    columns: tuple[tuple[str, tuple[str, ...], pl.DataFrame], ...]  # text → (rule, clause)
    clauses: pl.DataFrame  # rule → number of clauses
    always: tuple[int, ...]  # rules without atoms


_PLANS: dict[int, tuple[CompiledRuleSet, _Plan]] = {}


def _plan(ruleset: CompiledRuleSet) -> _Plan:
    cached = _PLANS.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    by_column: dict[str, dict[str, set[tuple[int, int]]]] = defaultdict(lambda: defaultdict(set))
    always: list[int] = []
    counts: dict[int, int] = {}
    for position, compiled in enumerate(ruleset.rules):
        if compiled.atoms is None:
            always.append(position)
            continue
        counts[position] = len(compiled.atoms)
        for number, clause in enumerate(compiled.atoms):
            for column, text in clause:
                by_column[column][text].add((position, number))
    columns = []
    for column, texts in sorted(by_column.items()):
        rows = [(text, r, c) for text, targets in texts.items() for r, c in sorted(targets)]
        table = pl.DataFrame(
            rows, schema={_TEXT: pl.String, _RULE: pl.UInt32, _CLAUSE: pl.UInt32}, orient="row"
        )
        columns.append((column, tuple(sorted(texts)), table))
    clauses = pl.DataFrame(
        {_RULE: list(counts), _COUNT: list(counts.values())},
        schema={_RULE: pl.UInt32, _COUNT: pl.UInt32},
    )
    plan = _Plan(tuple(columns), clauses, tuple(always))
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
    from_raw = (
        VALUES_FIELD in ruleset.fields
        and VALUES_FIELD not in frame.columns
        and RAW_FIELD in frame.columns
    )
    if from_raw:  # keyword rules: search the raw line, derive `_values` for candidates only
        fields = [f for f in fields if f != VALUES_FIELD] + [RAW_FIELD]
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
    """Rule position → sorted candidate row indexes (rules with atoms only).

    Atoms are searched in each column's distinct values (telemetry repeats itself), giving for
    every (rule, clause) the values where it holds and how many rows have them. A rule is a
    candidate only where all its clauses hold somewhere in the batch; its rows are then those of
    its rarest clause (the exact expression checks the rest)."""
    lazy = base.lazy()
    columns: list[str | None] = []  # None: keyword atoms searched in the raw line, per row
    queries: list[pl.LazyFrame] = []
    for column, texts, table in plan.columns:
        if column == VALUES_FIELD and column not in base.columns and RAW_FIELD in base.columns:
            columns.append(None)
            queries.append(_raw_hits(base, texts, table))
        elif column in base.columns and base.get_column(column).null_count() < base.height:
            columns.append(column)
            queries.append(_value_hits(lazy, column, texts, table))
    if not queries:
        return {}
    found = pl.collect_all(queries)
    counts = (
        pl.concat([f.select(_RULE, _CLAUSE, _N) for f in found])
        .group_by(_RULE, _CLAUSE)
        .agg(pl.col(_N).sum())
    )
    best = (
        counts.join(plan.clauses, on=_RULE)
        .filter(pl.len().over(_RULE) == pl.col(_COUNT))  # every clause holds somewhere
        .sort(_N, _CLAUSE)
        .group_by(_RULE, maintain_order=True)
        .first()
        .select(_RULE, _CLAUSE)
    )
    if best.height == 0:
        return {}
    pairs: list[pl.LazyFrame] = []
    for name, hits in zip(columns, found, strict=True):
        chosen = hits.join(best, on=[_RULE, _CLAUSE])
        if chosen.height == 0:
            continue
        if name is None:
            pairs.append(chosen.lazy().select(_RULE, _INDEX))
        else:
            pairs.append(
                lazy.select(_INDEX, pl.col(name).alias(_KEY))
                .join(chosen.lazy().select(_KEY, _RULE), on=_KEY)
                .select(_RULE, _INDEX)
            )
    if not pairs:
        return {}
    rows = pl.concat(pairs).unique().group_by(_RULE).agg(pl.col(_INDEX).sort()).collect()
    return dict(zip(rows.get_column(_RULE).to_list(), rows.get_column(_INDEX), strict=True))


def _value_hits(
    lazy: pl.LazyFrame, column: str, texts: tuple[str, ...], table: pl.DataFrame
) -> pl.LazyFrame:
    """(value, rule, clause, rows with that value) for every atom found in `column`."""
    return (
        lazy.select(pl.col(column).alias(_KEY))
        .drop_nulls()
        .group_by(_KEY)
        .agg(pl.len().cast(pl.UInt32).alias(_N))
        .with_columns(
            pl.col(_KEY)
            .str.to_lowercase()
            .str.extract_many(list(texts), overlapping=True)
            .alias(_TEXT)
        )
        .filter(pl.col(_TEXT).list.len() > 0)
        .explode(_TEXT)
        .unique([_KEY, _TEXT])
        .join(table.lazy(), on=_TEXT)
        .select(_KEY, _RULE, _CLAUSE, _N)
        .unique()
    )


def _raw_hits(base: pl.DataFrame, texts: tuple[str, ...], table: pl.DataFrame) -> pl.LazyFrame:
    """(row, rule, clause, 1) for keyword atoms found in the lower-cased raw line, each text
    searched with its JSON escaping; lines using optional escapes are rewritten minimally
    first (`civicshield.detect.engine.values`)."""
    escaped = {json_escape(t): t for t in texts}
    raw = base.get_column(RAW_FIELD)
    flagged = raw.str.contains(r"\\[u/]").fill_null(False)
    if flagged.any():
        where = flagged.arg_true()
        fixed = [None if r is None else canonical_json(r) for r in raw.gather(where)]
        raw = raw.scatter(where, pl.Series(fixed, dtype=pl.String))
    return (
        pl.LazyFrame({_INDEX: base.get_column(_INDEX), RAW_FIELD: raw})
        .select(
            pl.col(_INDEX),
            pl.col(RAW_FIELD)
            .str.to_lowercase()
            .str.extract_many(sorted(escaped), overlapping=True)
            .alias(_TEXT),
        )
        .filter(pl.col(_TEXT).list.len() > 0)
        .explode(_TEXT)
        .unique()
        .with_columns(pl.col(_TEXT).replace_strict(escaped, return_dtype=pl.String))
        .join(table.lazy(), on=_TEXT)
        .select(_INDEX, _RULE, _CLAUSE, pl.lit(1, dtype=pl.UInt32).alias(_N))
        .unique()
    )


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
    """The index, `fields` and their lower-cased copies, for `rows` only (`_values` derived
    from the raw line when the reader did not provide it)."""
    derive = VALUES_FIELD in fields and VALUES_FIELD not in base.columns
    read = [f for f in fields if not (derive and f == VALUES_FIELD)]
    sub = base.select(_INDEX, *read, *([RAW_FIELD] if derive else []))
    if rows.len() < base.height:
        sub = sub[rows]
    if derive:
        sub = sub.with_columns(
            pl.Series(
                VALUES_FIELD,
                [None if r is None else values_text(r) for r in sub.get_column(RAW_FIELD)],
                dtype=pl.String,
            )
        ).drop(RAW_FIELD)
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
