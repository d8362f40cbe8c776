"""Indicators matched in continuous detection: the active indicators as an `IndicatorIndex`,
rebuilt only when the store changes (or every few minutes, as indicators expire), and their
hits over a batch in the shape the alert queue records (one pseudo-rule per indicator).

The alert level comes from the indicator's STIX 2.1 `confidence` (0-100, see `alert_level`):
a sure indicator from a peer deserves a page, a weak one a look."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.detect.indicators import IndicatorIndex
from civicshield.detect.live import with_event_columns
from civicshield.intel.models import IntelIndicator, IntelObject
from civicshield.intel.service import indicator_index

__all__ = ["INTEL_AUTHOR", "alert_level", "indicator_matches"]

INTEL_AUTHOR = "Threat intelligence"
_REBUILD_AFTER = timedelta(minutes=5)  # expiries happen without the store changing
_LOCK = threading.Lock()
_CACHE: dict[str, Any] = {}
# (lowest confidence, level), highest first; an indicator without confidence is "medium".
LEVELS = ((85, "critical"), (70, "high"), (40, "medium"), (0, "low"))
UNKNOWN_CONFIDENCE_LEVEL = "medium"


def alert_level(confidence: int | None) -> str:
    """The Sigma level of an alert on an indicator with this STIX `confidence` (0-100):
    85+ critical, 70+ high, 40+ medium, below low; none stated: medium (STIX 2.1 §3.2 says
    a missing confidence is unknown, neither weak nor strong)."""
    if confidence is None:
        return UNKNOWN_CONFIDENCE_LEVEL
    return next((level for floor, level in LEVELS if confidence >= floor), "low")


def _stamp(session: Session) -> tuple[Any, ...]:
    row = session.execute(
        select(
            func.count(IntelIndicator.id),
            func.max(IntelIndicator.id),
            func.max(IntelIndicator.modified),
            func.count(IntelIndicator.suppressed_by),
            func.sum(func.length(IntelIndicator.not_matchable)),
        )
    ).one()
    bind = session.get_bind()
    url = bind.engine.url  # a Connection or an Engine: both know their engine
    return (str(url), *row)  # one cache per database, too


def _index(session: Session, now: datetime) -> IndicatorIndex | None:
    stamp = _stamp(session)
    if not stamp[1]:
        return None
    with _LOCK:
        fresh = _CACHE.get("stamp") == stamp and now - _CACHE["built"] < _REBUILD_AFTER
        if not fresh:
            _CACHE.update(stamp=stamp, built=now, index=indicator_index(session, now))
        index: IndicatorIndex = _CACHE["index"]
    return index if index.size else None


def indicator_matches(
    session: Session, frame: pl.DataFrame, dataset: str, *, now: datetime
) -> pl.DataFrame:
    """The batch's indicator hits as matches (`rule_id` = `intel/<indicator id>`, title with the
    indicator's name, `author` = threat intelligence, tags with its TLP) plus the event columns."""
    index = _index(session, now)
    if index is None or frame.height == 0:
        return pl.DataFrame()
    hits = index.match(frame)
    if hits.height == 0:
        return pl.DataFrame()
    hits = hits.unique(subset=["event_index", "indicator"], keep="first", maintain_order=True)
    ids = hits.get_column("indicator").unique().to_list()
    about = {
        stix_id: (name or pattern, tlp or "clear", alert_level(confidence))
        for stix_id, name, pattern, tlp, confidence in session.execute(
            select(
                IntelIndicator.stix_id, IntelIndicator.name, IntelIndicator.pattern,
                IntelIndicator.tlp, IntelObject.confidence,
            )
            .join(IntelObject, IntelObject.id == IntelIndicator.object_id)
            .where(IntelIndicator.stix_id.in_(ids))
        )
    }  # fmt: skip
    meta = pl.DataFrame(
        {
            "indicator": list(about),
            "_name": [v[0] for v in about.values()],
            "_tlp": [v[1] for v in about.values()],
            "_level": [v[2] for v in about.values()],
        },
        schema={"indicator": pl.String, "_name": pl.String, "_tlp": pl.String, "_level": pl.String},
    )
    joined = hits.join(meta, on="indicator", how="left")
    matches = joined.select(
        pl.concat_str(pl.lit("intel/"), pl.col("indicator")).alias("rule_id"),
        pl.concat_str(
            pl.lit("Threat intel: "), pl.col("_name").fill_null(pl.col("indicator")),
            pl.lit(" ("), pl.col("field"), pl.lit(" "), pl.col("value"), pl.lit(")"),
        ).alias("rule_title"),
        pl.col("_level").fill_null(UNKNOWN_CONFIDENCE_LEVEL).alias("level"),
        pl.lit(INTEL_AUTHOR).alias("author"),
        pl.concat_list(
            pl.lit("intel"), pl.concat_str(pl.lit("tlp:"), pl.col("_tlp").fill_null("clear"))
        ).alias("tags"),
        pl.col("event_index").cast(pl.Int64),
    )  # fmt: skip
    return with_event_columns(matches, frame, dataset)
