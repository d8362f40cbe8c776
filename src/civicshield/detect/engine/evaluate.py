"""Evaluate a compiled rule set over one batch of events (a Polars frame)."""

from __future__ import annotations

from collections import defaultdict

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


def evaluate(ruleset: CompiledRuleSet, frame: pl.DataFrame) -> pl.DataFrame:
    """Matches of every rule on `frame`: one row per (rule, event), `event_index` being the
    0-based row of `frame`. Fields the frame lacks are treated as absent in every event.
    Each rule only sees the rows of its log source."""
    rows: dict[str, list[object]] = {name: [] for name in MATCH_SCHEMA}
    if frame.height == 0 or not ruleset.rules:
        return pl.DataFrame(rows, schema=MATCH_SCHEMA)
    fields = sorted(ruleset.fields)
    missing = [f for f in fields if f not in frame.columns]
    base = frame.with_columns(pl.lit(None, dtype=pl.String).alias(f) for f in missing)
    base = base.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(_INDEX),
        *(pl.col(f).cast(pl.String) for f in fields),
        *(pl.col(f).cast(pl.String).str.to_lowercase().alias(lower_name(f)) for f in fields),
    )
    lower = {f: lower_name(f) for f in fields}
    groups: dict[Route, list[CompiledRule]] = defaultdict(list)
    for rule in ruleset.rules:
        groups[rule.route].append(rule)
    for route, rules in groups.items():
        part = base.filter(route.expr(lower))
        if part.height == 0:
            continue
        hits = part.select(pl.col(_INDEX), *(r.expr.alias(str(i)) for i, r in enumerate(rules)))
        index = hits.get_column(_INDEX)
        for i, compiled in enumerate(rules):
            mask = hits.get_column(str(i))
            if not mask.any():
                continue
            matched = index.filter(mask).to_list()
            info = compiled.rule
            rows["rule_id"].extend([info.id] * len(matched))
            rows["rule_title"].extend([info.title] * len(matched))
            rows["level"].extend([info.level.value if info.level else None] * len(matched))
            rows["author"].extend([info.author] * len(matched))
            rows["tags"].extend([list(info.tags)] * len(matched))
            rows["event_index"].extend(matched)
    return pl.DataFrame(rows, schema=MATCH_SCHEMA)
