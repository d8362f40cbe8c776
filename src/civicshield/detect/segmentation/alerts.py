"""Segmentation violations as matches, the shape continuous detection records as alerts.

Each denied flow is one match of the pseudo-rule `segmentation/<rule id>` (or
`segmentation/default` for a flow no rule allows); the alert queue deduplicates them like Sigma
matches (per rule, host, source address and window)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from civicshield.detect.live import with_event_columns
from civicshield.detect.segmentation.evaluate import ACTION, REASON, RULE, SEVERITY, Evaluator
from civicshield.detect.segmentation.policy import DEFAULT_POLICY, Policy, load_policy

__all__ = ["FLOW_DATASETS", "POLICY_FILE", "WINDOW_SECONDS", "city_policy", "violation_matches"]

FLOW_DATASETS = frozenset({"zeek.conn", "netflow", "suricata.flow"})
POLICY_FILE = "segmentation.yaml"  # under the data directory; the default policy otherwise
AUTHOR = "CivicShield segmentation policy"
# A violation is a standing state (a camera that reaches out does so all day): one alert per
# rule, source and day, not per hour like a Sigma match.
WINDOW_SECONDS = 24 * 3600
_COLUMNS = ("source.ip", "destination.ip", "network.transport", "destination.port")
_EVALUATORS: dict[tuple[str, float], Evaluator] = {}


def city_policy(data_dir: Path) -> Policy:
    """The city's policy: `<data_dir>/segmentation.yaml` when saved, else the default one."""
    path = data_dir / POLICY_FILE
    return load_policy(path if path.is_file() else DEFAULT_POLICY)


def _evaluator(data_dir: Path) -> Evaluator:
    path = data_dir / POLICY_FILE
    chosen = path if path.is_file() else DEFAULT_POLICY
    key = (str(chosen), chosen.stat().st_mtime)
    if key not in _EVALUATORS:
        _EVALUATORS.clear()  # one policy in use at a time
        _EVALUATORS[key] = Evaluator(load_policy(chosen))
    return _EVALUATORS[key]


def violation_matches(frame: pl.DataFrame, dataset: str, data_dir: Path) -> pl.DataFrame:
    """The denied flows of one batch as matches (`rule_id`, `rule_title`, `level`, `author`,
    `tags`, `event_index` and the event columns); empty for datasets that are not flows."""
    if (
        dataset not in FLOW_DATASETS
        or frame.height == 0
        or any(c not in frame.columns for c in _COLUMNS)
    ):
        return pl.DataFrame()
    evaluator = _evaluator(data_dir)
    judged = evaluator.evaluate(frame.select(_COLUMNS).with_row_index("event_index")).filter(
        pl.col(ACTION) == "deny"
    )
    if judged.height == 0:
        return pl.DataFrame()
    name = pl.col(RULE).str.strip_chars("()").str.replace("intra-zone", "intra")
    matches = judged.select(
        pl.concat_str(pl.lit("segmentation/"), name).alias("rule_id"),
        pl.concat_str(
            pl.lit("Segmentation: "),
            pl.col("source.zone"),
            pl.lit(" → "),
            pl.col("destination.zone"),
            pl.lit(" ("),
            pl.col(REASON),
            pl.lit(")"),
        ).alias("rule_title"),
        pl.col(SEVERITY).alias("level"),
        pl.lit(AUTHOR).alias("author"),
        pl.lit(["attack.lateral_movement", "attack.t1021", "segmentation"]).alias("tags"),
        pl.col("event_index").cast(pl.Int64),
    )
    return with_event_columns(matches, frame, dataset)
