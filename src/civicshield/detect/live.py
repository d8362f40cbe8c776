"""Continuous detection's side of the engine: the rule set it runs and one batch evaluated.

The rule set is the catalogue's (the default rule roots, compiled with the `combined` mapping
and cached, see `detect.catalog`), restricted by the default `RuleSelection` (no deprecated or
unsupported rules) and `CIVICSHIELD_DETECT_MIN_LEVEL`. Without SigmaHQ's rules CivicShield's own
pack still runs and `LiveRules.note` says what is missing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

import polars as pl

from civicshield.core import Settings, Severity
from civicshield.core.errors import ConfigError
from civicshield.detect import cache
from civicshield.detect.engine.evaluate import evaluate
from civicshield.detect.engine.model import CompiledRuleSet
from civicshield.detect.retro import prepare_frame, rules_for_dataset
from civicshield.detect.sigma.ruleset import RuleSelection, missing_sigmahq

__all__ = ["MATCH_EVENT_COLUMNS", "LiveRules", "evaluate_batch", "live_rules"]

# The event columns each match carries to the alert (key and context fields, where it was).
MATCH_EVENT_COLUMNS = (
    "@timestamp",
    "_line",
    "_raw",
    "_source",
    "_entry",
    "event.dataset",
    "host.name",
    "source.ip",
    "user.name",
    "destination.ip",
    "destination.port",
    "Computer",
)
_MEMO: dict[str, LiveRules] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class LiveRules:
    ruleset: CompiledRuleSet
    key: str  # the compiled cache key ("" without rules)
    paths: dict[str, str]  # rule id -> file relative to its root
    note: str = ""


def live_rules(settings: Settings, *, compile_missing: bool = True) -> LiveRules:
    """The rules continuous detection runs (memoised per rule-set key)."""
    from civicshield.detect.catalog import build_catalog, catalog_key

    try:
        key = catalog_key(settings)
    except ConfigError as exc:
        return LiveRules(CompiledRuleSet(), "", {}, note=str(exc))
    memo = f"{key}:{settings.detect_min_level}"
    note = missing_sigmahq(settings) or ""
    with _LOCK:
        known = _MEMO.get(memo)
    if known is not None:
        return replace(known, note=note)
    entry = cache.load_entry(cache.cache_path(settings.data_dir, key))
    if entry is None:
        if not compile_missing:
            return LiveRules(CompiledRuleSet(), key, {}, note="the rule set is not compiled yet")
        build_catalog(settings)
        entry = cache.load_entry(cache.cache_path(settings.data_dir, key))
        if entry is None:
            return LiveRules(
                CompiledRuleSet(), key, {}, note="the compiled rule cache cannot be written"
            )
    selection = RuleSelection(
        min_level=Severity.parse(settings.detect_min_level) if settings.detect_min_level else None
    )
    chosen = [r for r in entry.ruleset.rules if selection.accepts(r.rule)]
    live = LiveRules(
        CompiledRuleSet(rules=chosen), key, {r.rule.id: r.rule.path for r in chosen}, note=note
    )
    with _LOCK:
        _MEMO.clear()
        _MEMO[memo] = live
    return live


def evaluate_batch(ruleset: CompiledRuleSet, frame: pl.DataFrame, dataset: str) -> pl.DataFrame:
    """The matches of one batch of `dataset`'s events (as a reader gives them), each with the
    match columns of the engine and `MATCH_EVENT_COLUMNS` of its event (null when absent)."""
    rules = rules_for_dataset(ruleset, dataset, own_tags="logsource.product" in frame.columns)
    if not rules.rules or frame.height == 0:
        return _empty(frame)
    events = prepare_frame(frame, dataset, rules, values=rules.needs_values)
    matches = evaluate(rules, events)
    if matches.height == 0:
        return _empty(frame)
    rows = matches.get_column("event_index")
    present = [c for c in MATCH_EVENT_COLUMNS if c in frame.columns]
    picked = frame.select(pl.col(c).gather(rows) for c in present)
    if not present:
        picked = pl.DataFrame({"_n": pl.int_range(matches.height, eager=True)})
    picked = picked.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in MATCH_EVENT_COLUMNS if c not in present
    ).select(MATCH_EVENT_COLUMNS)
    picked = picked.with_columns(pl.col("event.dataset").fill_null(dataset))
    return pl.concat([matches, picked], how="horizontal")


def _empty(frame: pl.DataFrame) -> pl.DataFrame:
    from civicshield.detect.engine.evaluate import MATCH_SCHEMA

    schema = {**MATCH_SCHEMA, **dict.fromkeys(MATCH_EVENT_COLUMNS, pl.String)}
    for name in ("@timestamp", "_line"):
        if name in frame.columns:
            schema[name] = frame.schema[name]
    return pl.DataFrame(schema=schema)
