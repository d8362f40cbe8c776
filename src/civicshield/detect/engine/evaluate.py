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

import re
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
_COLUMN = "\x00column"
_RULE = "\x00rule"
_CLAUSE = "\x00clause"
_COUNT = "\x00count"
_KEY = "\x00key"
_N = "\x00rows"
_CALL_COST = 2_000
# Per-rule queries are tiny; the optimiser's passes cost more than they save on them.
_PLAIN = pl.QueryOptFlags.none()
# Characters JSON writers may write as `\uXXXX` (or `\/`) although they need not: non-ASCII
# (ensure_ascii), controls, `/`, and the HTML-safe set `< > & '` (Go's encoding/json).
_OPTIONALLY_ESCAPED = re.compile(r"[^\x20-\x7e]|[/<>&']")


@dataclass(frozen=True)
class _Plan:
    """Per rule set, built once: each atom column's texts and (text → rule) table."""

    columns: tuple[tuple[str, tuple[str, ...], pl.DataFrame], ...]  # text → (rule, clause)
    clauses: pl.DataFrame  # rule → number of clauses
    always: tuple[int, ...]  # rules without atoms
    # keyword atoms by the log source of their rules, for searching raw lines route by route
    keywords: tuple[tuple[Route, tuple[str, ...], pl.DataFrame], ...] = ()


_PLANS: dict[int, tuple[CompiledRuleSet, _Plan]] = {}


def _plan(ruleset: CompiledRuleSet) -> _Plan:
    cached = _PLANS.get(id(ruleset))
    if cached is not None and cached[0] is ruleset:
        return cached[1]
    # One flat (column, text, rule, clause) table of every atom, then split by column. Rules
    # from the compiled rule cache add their rows as list slices, without a step per atom; a
    # clause holds a (column, text) once, so the table has no duplicates.
    columns: list[str] = []
    texts: list[str] = []
    rules: list[int] = []
    clauses: list[int] = []
    always: list[int] = []
    counts: dict[int, int] = {}
    for position, compiled in enumerate(ruleset.rules):
        flat = compiled.flat_atoms
        if flat is not None:
            shared, start, end, counts[position] = flat
            columns += shared.columns[start:end]
            texts += shared.texts[start:end]
            clauses += shared.clauses[start:end]
            rules += [position] * (end - start)
            continue
        atoms = compiled.atoms
        if atoms is None:
            always.append(position)
            continue
        counts[position] = len(atoms)
        for number, clause in enumerate(atoms):
            for column, text in clause:
                columns.append(column)
                texts.append(text)
                rules.append(position)
                clauses.append(number)
    table = pl.DataFrame(
        {_COLUMN: columns, _TEXT: texts, _RULE: rules, _CLAUSE: clauses},
        schema={_COLUMN: pl.String, _TEXT: pl.String, _RULE: pl.UInt32, _CLAUSE: pl.UInt32},
    )
    plan = _Plan(
        _column_tables(table),
        pl.DataFrame(
            {_RULE: list(counts), _COUNT: list(counts.values())},
            schema={_RULE: pl.UInt32, _COUNT: pl.UInt32},
        ),
        tuple(always),
        _keyword_tables(table.filter(pl.col(_COLUMN) == VALUES_FIELD), ruleset),
    )
    if len(_PLANS) > 16:  # a process holds few rule sets; keep the memo small
        _PLANS.clear()
    _PLANS[id(ruleset)] = (ruleset, plan)
    return plan


def _column_tables(
    table: pl.DataFrame,
) -> tuple[tuple[str, tuple[str, ...], pl.DataFrame], ...]:
    """Per column (sorted): its distinct texts, sorted, and its (text, rule, clause) rows."""
    parts = table.partition_by(_COLUMN, as_dict=True, include_key=False)
    return tuple(
        (column, tuple(sorted(set(part.get_column(_TEXT).to_list()))), part)
        for (column,), part in sorted(parts.items())
    )


def _keyword_tables(
    table: pl.DataFrame, ruleset: CompiledRuleSet
) -> tuple[tuple[Route, tuple[str, ...], pl.DataFrame], ...]:
    """Keyword atoms by the log source of their rules: (route, texts, (text, rule, clause))."""
    if table.height == 0:
        return ()
    routes: dict[Route, list[int]] = defaultdict(list)
    for position in table.get_column(_RULE).unique(maintain_order=True).to_list():
        routes[ruleset.rules[position].route].append(position)
    found = []
    for route, positions in routes.items():
        part = table.filter(pl.col(_RULE).is_in(positions)).drop(_COLUMN)
        found.append((route, tuple(sorted(set(part.get_column(_TEXT).to_list()))), part))
    return tuple(found)


def evaluate(
    ruleset: CompiledRuleSet, frame: pl.DataFrame, *, prefilter: bool = True
) -> pl.DataFrame:
    """Matches of every rule on `frame`: one row per (rule, event), `event_index` being the
    0-based row of `frame`. Fields the frame lacks are treated as absent in every event.
    Each rule only sees the rows of its log source. `prefilter=False` runs every rule on every
    row of its log source (same result, slower: the tests compare both)."""
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
    candidates = _candidates(_plan(ruleset), base) if prefilter else {}
    everything = pl.Series(_INDEX, range(base.height), dtype=pl.UInt32)
    groups: dict[Route, list[tuple[CompiledRule, pl.Series]]] = defaultdict(list)
    for position, compiled in enumerate(ruleset.rules):
        use_all = not compiled.has_atoms or not prefilter
        rows = everything if use_all else candidates.get(position)
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
            for route, route_texts, route_table in plan.keywords:
                rows = _route_rows(base, route)
                if rows.height:
                    columns.append(None)
                    queries.append(_raw_hits(rows, route_texts, route_table))
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


def _route_rows(base: pl.DataFrame, route: Route) -> pl.DataFrame:
    """The index and raw line of the rows of `route`."""
    fields = sorted(route.fields)
    if not fields:
        return base.select(_INDEX, RAW_FIELD)
    missing = [f for f in fields if f not in base.columns]
    return (
        base.lazy()
        .select(_INDEX, RAW_FIELD, *(f for f in fields if f in base.columns))
        .with_columns(pl.lit(None, dtype=pl.String).alias(f) for f in missing)
        .with_columns(pl.col(f).str.to_lowercase().alias(lower_name(f)) for f in fields)
        .filter(route.expr({f: lower_name(f) for f in fields}))
        .select(_INDEX, RAW_FIELD)
        .collect()
    )


def _raw_hits(base: pl.DataFrame, texts: tuple[str, ...], table: pl.DataFrame) -> pl.LazyFrame:
    """(row, rule, clause, 1) for keyword atoms found in the lower-cased raw line, each text
    searched with its JSON escaping; when a text has a character that may be escaped
    optionally, lines using optional escapes are rewritten minimally first
    (`civicshield.detect.engine.values`). When every text is ASCII, an ASCII-case-
    insensitive pass over the original lines first keeps only the lines that can hold one
    (plus lines with the two characters whose lower case is ASCII: KELVIN SIGN, and CAPITAL I
    WITH DOT ABOVE), so most lines are never lower-cased."""
    escaped = {json_escape(t): t for t in texts}
    raw = base.get_column(RAW_FIELD)
    index = base.get_column(_INDEX)
    if any(_OPTIONALLY_ESCAPED.search(t) for t in texts):
        flagged = raw.str.contains(r"\\[u/]").fill_null(False)
    else:  # no text has a character a JSON writer may escape optionally
        flagged = pl.Series(_INDEX, [False] * len(raw), dtype=pl.Boolean)
    if all(e.isascii() for e in escaped):
        gate = (
            flagged
            | raw.str.contains_any(list(escaped), ascii_case_insensitive=True).fill_null(False)
            | raw.str.contains("[\u212a\u0130]").fill_null(False)
        )
        if not gate.all():
            where = gate.arg_true()
            raw, index, flagged = raw.gather(where), index.gather(where), flagged.gather(where)
    if flagged.any():
        where = flagged.arg_true()
        fixed = [None if r is None else canonical_json(r) for r in raw.gather(where)]
        raw = raw.scatter(where, pl.Series(fixed, dtype=pl.String))
    return (
        pl.LazyFrame({_INDEX: index, RAW_FIELD: raw})
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
    """(rule, matched row indexes) for the rules of one log source, each on its candidates.

    Rules are packed, smallest candidate sets first, into bundles evaluated in one query over
    the union of their rows, as long as that costs fewer row evaluations than running them one
    by one (a query costs about `_CALL_COST` row evaluations by itself)."""
    found: list[tuple[CompiledRule, pl.Series]] = []
    bundle: list[tuple[CompiledRule, pl.Series]] = []
    union: set[int] = set()
    own = 0
    for compiled, rows in sorted(members, key=lambda m: m[1].len()):
        merged = union.union(rows.to_list())
        size = own + rows.len()
        if bundle and len(merged) * (len(bundle) + 1) > size + _CALL_COST * (len(bundle) + 1):
            found.extend(_evaluate_bundle(route, bundle, union, base))
            bundle, union, own = [], set(), 0
            merged, size = set(rows.to_list()), rows.len()
        bundle.append((compiled, rows))
        union, own = merged, size
    if bundle:
        found.extend(_evaluate_bundle(route, bundle, union, base))
    return found


def _evaluate_bundle(
    route: Route,
    bundle: list[tuple[CompiledRule, pl.Series]],
    union: set[int],
    base: pl.DataFrame,
) -> list[tuple[CompiledRule, pl.Series]]:
    fields = sorted(set().union(*(c.fields for c, _ in bundle)))
    rows = bundle[0][1] if len(bundle) == 1 else pl.Series(sorted(union), dtype=pl.UInt32)
    hits = (
        _gathered(base, fields, rows)
        .lazy()
        .with_columns(pl.col(f).str.to_lowercase().alias(lower_name(f)) for f in fields)
        .filter(route.expr({f: lower_name(f) for f in fields}))
        .select(pl.col(_INDEX), *(c.expr.alias(str(i)) for i, (c, _) in enumerate(bundle)))
        .collect(optimizations=_PLAIN)
    )
    found: list[tuple[CompiledRule, pl.Series]] = []
    if hits.height == 0:
        return found
    index = hits.get_column(_INDEX)
    for i, (compiled, _) in enumerate(bundle):
        mask = hits.get_column(str(i))
        if mask.any():
            found.append((compiled, index.filter(mask)))
    return found


def _lowered(base: pl.DataFrame, fields: list[str], rows: pl.Series) -> pl.DataFrame:
    """The index, `fields` and their lower-cased copies, for `rows` only."""
    sub = _gathered(base, fields, rows)
    return sub.with_columns(pl.col(f).str.to_lowercase().alias(lower_name(f)) for f in fields)


def _gathered(base: pl.DataFrame, fields: list[str], rows: pl.Series) -> pl.DataFrame:
    """The index and `fields` for `rows` only (`_values` derived from the raw line when the
    reader did not provide it)."""
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
    return sub


def _matches(found: list[tuple[CompiledRule, pl.Series]]) -> pl.DataFrame:
    """The match frame: each rule's metadata once, joined to its matched row indexes."""
    if not found:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    rules = [compiled.rule for compiled, _ in found]
    meta = pl.DataFrame(
        {
            _RULE: list(range(len(rules))),
            "rule_id": [r.id for r in rules],
            "rule_title": [r.title for r in rules],
            "level": [r.level.value if r.level else None for r in rules],
            "author": [r.author for r in rules],
            "tags": [list(r.tags) for r in rules],
        },
        schema={_RULE: pl.UInt32, **{k: v for k, v in MATCH_SCHEMA.items() if k != "event_index"}},
    )
    hits = pl.concat(
        [
            matched.cast(pl.Int64)
            .alias("event_index")
            .to_frame()
            .with_columns(pl.lit(position, dtype=pl.UInt32).alias(_RULE))
            for position, (_, matched) in enumerate(found)
        ]
    )
    return hits.join(meta, on=_RULE, how="left", maintain_order="left").select(list(MATCH_SCHEMA))
