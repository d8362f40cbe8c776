"""Continuous detection's side of the engine: the rule set it runs and one batch evaluated.

The rule set is the catalogue's (the default rule roots, compiled with the `combined` mapping
and cached, see `detect.catalog`), restricted by the default `RuleSelection` (no deprecated or
unsupported rules) and `CIVICSHIELD_DETECT_MIN_LEVEL`. Without SigmaHQ's rules CivicShield's own
pack still runs and `LiveRules.note` says what is missing.

Sigma correlation rules run too (`evaluate_live`, see `civicshield.detect.live_correlation`):
their base rules are evaluated even where the selection leaves them out, and, as in
`civicshield detect`, a base rule's own matches become alerts only under `generate: true`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from civicshield.core import Settings, Severity
from civicshield.core.errors import ConfigError
from civicshield.detect import cache
from civicshield.detect.correlations import plan_correlations
from civicshield.detect.engine.evaluate import evaluate
from civicshield.detect.engine.model import CompiledRuleSet, Unsupported
from civicshield.detect.retro import prepare_frame, rules_for_dataset
from civicshield.detect.sigma.files import iter_rule_files
from civicshield.detect.sigma.ruleset import RuleSelection, missing_sigmahq, rule_roots

if TYPE_CHECKING:
    from civicshield.detect.engine.correlation import CompiledCorrelation
    from civicshield.detect.live_correlation import History
    from civicshield.detect.sigma.model import RuleInfo

__all__ = [
    "MATCH_EVENT_COLUMNS",
    "LiveRules",
    "evaluate_batch",
    "evaluate_live",
    "live_rules",
    "live_rules_from",
    "with_event_columns",
]

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
    ruleset: CompiledRuleSet  # the selected rules (what `evaluate_batch` callers run)
    key: str  # the compiled cache key ("" without rules)
    paths: dict[str, str]  # rule id -> file relative to its root (correlation rules too)
    note: str = ""
    correlations: tuple[CompiledCorrelation, ...] = ()
    base_ids: frozenset[str] = frozenset()  # rules whose matches feed a correlation
    generating: frozenset[str] = frozenset()  # base rules whose own matches are alerts too
    # each event field the correlations read (Sigma name) -> its column
    fields: Mapping[str, str] = field(default_factory=dict)
    # selected correlation rules that cannot run, with reasons
    rejected: tuple[Unsupported, ...] = ()
    # `ruleset` plus base rules the selection left out (None: just `ruleset`)
    evaluated: CompiledRuleSet | None = None

    @property
    def quiet(self) -> frozenset[str]:
        """Rules evaluated for their correlations only: their own matches are no alerts."""
        return self.base_ids - self.generating


def live_rules_from(
    compiled: CompiledRuleSet,
    selection: RuleSelection,
    *,
    files: Sequence[Path],
    parsed: Sequence[RuleInfo] | None = None,
    mapping: str = "combined",
    key: str = "",
    note: str = "",
) -> LiveRules:
    """`LiveRules` of a compiled (or cached) rule set under `selection`, its correlation rules
    compiled (pySigma parses their files when `parsed` is not given; see
    `civicshield.detect.correlations`). `files`: the set's rule files."""
    chosen = [r for r in compiled.rules if selection.accepts(r.rule)]
    plan = plan_correlations(
        compiled, accepts=selection.accepts, mapping=mapping, files=files, parsed=parsed
    )
    selected = {r.rule.id for r in chosen}
    bases = plan.base_ids
    extra = [r for r in compiled.rules if r.rule.id in bases and r.rule.id not in selected]
    paths = {r.rule.id: r.rule.path for r in [*chosen, *extra]}
    paths.update({c.rule.id: c.rule.path for c in plan.correlations})
    return LiveRules(
        CompiledRuleSet(rules=chosen),
        key,
        paths,
        note=note,
        correlations=plan.correlations,
        base_ids=bases,
        generating=plan.generating & selected,
        fields=plan.fields,
        rejected=plan.rejected,
        evaluated=CompiledRuleSet(rules=[*chosen, *extra]) if extra else None,
    )


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
    roots = [r.resolve() for r in rule_roots(settings)]
    files = [f for root in roots for f in iter_rule_files(root)]
    live = live_rules_from(entry.ruleset, selection, files=files, key=key, note=note)
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
    return with_event_columns(evaluate(rules, events), frame, dataset)


def evaluate_live(
    live: LiveRules, frame: pl.DataFrame, dataset: str, *, history: History | None = None
) -> pl.DataFrame:
    """The alerts-to-be of one batch, in `evaluate_batch`'s shape: the rules' matches less the
    own matches of base rules under `generate: false`, plus one row per correlation hit whose
    window holds an event of this batch (rule metadata of the correlation, event columns of
    its latest event in this batch). `history(dataset, since, until, columns)` gives the
    dataset's stored events (without it, correlations see this batch alone); see
    `civicshield.detect.live_correlation`."""
    from civicshield.detect.live_correlation import correlation_hits

    rules = live.evaluated if live.evaluated is not None else live.ruleset
    matches = evaluate_batch(rules, frame, dataset)
    if matches.height == 0:
        return matches
    quiet = live.quiet
    plain = matches.filter(~pl.col("rule_id").is_in(sorted(quiet))) if quiet else matches
    if not live.correlations:
        return plain
    hits = correlation_hits(live, frame, dataset, matches, history)
    if hits.height == 0:
        return plain
    return pl.concat([plain, with_event_columns(hits, frame, dataset)], how="vertical_relaxed")


def with_event_columns(matches: pl.DataFrame, frame: pl.DataFrame, dataset: str) -> pl.DataFrame:
    """`matches` (MATCH_SCHEMA rows, `event_index` into `frame`) with `MATCH_EVENT_COLUMNS` of
    their events (null when absent): the shape the alert queue records, for rule matches,
    segmentation violations and indicator hits alike."""
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
