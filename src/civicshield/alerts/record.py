"""Matches → alerts. One alert per dedup key: rule + key fields (`host.name`, `source.ip`,
`user.name`, whichever the event has) + dataset + time window (`alert_window_seconds`, by event
time). Repeats in the window add to its count and move `last_seen`.

Writing is idempotent per micro-batch: each batch has an id, and an alert keeps one
`AlertBatch` row per batch that fed it, so writing the same batch again (a replay after a crash,
a second worker) replaces that row instead of adding to the count. Suppressions are applied
before grouping: a suppressed match raises nothing and is counted on its suppression.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicshield.alerts.assets import AssetIndex
from civicshield.alerts.models import Alert, AlertBatch, AlertEvent
from civicshield.alerts.suppress import apply_suppressions
from civicshield.core.clock import Clock, as_utc
from civicshield.core.enums import Severity
from civicshield.core.errors import Invalid
from civicshield.detect.sigma.model import attack_tactics, attack_techniques

__all__ = [
    "CONTEXT_FIELDS",
    "KEY_FIELDS",
    "MATCH_FIELDS",
    "RecordReport",
    "dedup_key",
    "record_matches",
]

KEY_FIELDS = ("host.name", "source.ip", "user.name")
CONTEXT_FIELDS = ("destination.ip", "destination.port")
MATCH_FIELDS = (*KEY_FIELDS, *CONTEXT_FIELDS)
_REQUIRED = ("rule_id", "rule_title", "level")
_RAW_LIMIT = 16_384  # a sample event's text kept with the alert (the store keeps all of it)


@dataclass
class RecordReport:
    batch_id: str
    matches: int = 0
    suppressed: int = 0
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "matches": self.matches,
            "suppressed": self.suppressed,
            "created": len(self.created),
            "updated": len(self.updated),
        }


def record_matches(
    session: Session,
    matches: pl.DataFrame,
    *,
    batch_id: str,
    clock: Clock,
    window_seconds: int = 3600,
    samples: int = 10,
    rule_paths: Mapping[str, str] | None = None,
    kind: str = "sigma",
    asset_index: AssetIndex | None = None,
) -> RecordReport:
    """Turn one batch's matches into alerts. `matches` has `rule_id`, `rule_title`, `level`
    and, when known, `author`, `tags`, `event.dataset`, `@timestamp`, `_line`, `_raw`,
    `_source` and the `MATCH_FIELDS` columns (what the engine and `detect.retro` give).
    `asset_index` lets several calls of one unit of work share one inventory lookup."""
    if not batch_id or len(batch_id) > 100:
        raise Invalid("a batch id is 1 to 100 characters")
    missing = [c for c in _REQUIRED if c not in matches.columns]
    if missing:
        raise Invalid(f"matches lack the column(s) {', '.join(missing)}")
    report = RecordReport(batch_id, matches=matches.height)
    if matches.height == 0:
        return report
    now = clock.now()
    frame = _normalise(matches, now)
    frame, report.suppressed = apply_suppressions(session, frame, clock=clock)
    if frame.height == 0:
        return report
    step = window_seconds * 1_000_000
    frame = frame.with_columns(
        (pl.col("@timestamp").dt.epoch("us") // step * step)
        .cast(pl.Datetime("us", "UTC"))
        .alias("_window")
    )
    keys = ["rule_id", "event.dataset", *KEY_FIELDS, "_window"]
    sample = ["@timestamp", "_line", "_raw", "_source", *MATCH_FIELDS]
    groups = frame.group_by(keys, maintain_order=True).agg(
        pl.len().alias("_n"),
        pl.col("@timestamp").min().alias("_first"),
        pl.col("@timestamp").max().alias("_last"),
        pl.col("rule_title", "level", "author", "tags").first(),
        pl.struct(sample).head(samples).alias("_samples"),
    )
    assets = asset_index or AssetIndex(session)
    # Alerts in one order (their keys') in every worker: each locks its alerts' rows as it
    # goes, and two workers locking two alerts in opposite orders would deadlock.
    # The report keeps the batch's order.
    rows = list(groups.iter_rows(named=True))
    digests = [_digest(row, kind) for row in rows]
    done: dict[int, tuple[Alert, bool]] = {}
    for at in sorted(range(len(rows)), key=digests.__getitem__):
        done[at] = _upsert(session, rows[at], digests[at], assets, now, kind, rule_paths or {})
        _add_batch(session, done[at][0], rows[at], batch_id, samples)
    for at in range(len(rows)):
        alert, created = done[at]
        (report.created if created else report.updated).append(alert.id)
    return report


def _normalise(matches: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """Every column `record_matches` reads, with nulls where the batch has none."""
    wanted: dict[str, Any] = {
        "author": pl.String,
        "tags": pl.List(pl.String),
        "event.dataset": pl.String,
        "@timestamp": pl.Datetime("us", "UTC"),
        "_line": pl.Int64,
        "_raw": pl.String,
        "_source": pl.String,
        **dict.fromkeys(MATCH_FIELDS, pl.String),
    }
    frame = matches.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in wanted.items() if c not in matches.columns
    )
    host = pl.col("host.name")
    if "Computer" in frame.columns:  # Windows events name their host natively
        host = pl.coalesce(host, pl.col("Computer").cast(pl.String))
    return frame.with_columns(
        host.str.to_lowercase().alias("host.name"),
        *(pl.col(c).cast(pl.String) for c in MATCH_FIELDS if c != "host.name"),
        pl.col("@timestamp").fill_null(now),
        pl.col("event.dataset").fill_null("unknown"),
        pl.col("level").fill_null("medium").str.to_lowercase(),
    )


def dedup_key(
    kind: str, rule_id: str, dataset: str, key: Mapping[str, str], window: datetime
) -> str:
    parts = [kind, rule_id, dataset, *(f"{k}={key[k]}" for k in sorted(key)), window.isoformat()]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _severity(level: str | None) -> str:
    try:
        return Severity(level or "medium").value
    except ValueError:
        return Severity.MEDIUM.value


def _key_fields(row: dict[str, Any]) -> dict[str, str]:
    return {k: str(row[k]) for k in KEY_FIELDS if row[k] not in (None, "")}


def _digest(row: dict[str, Any], kind: str) -> str:
    return dedup_key(kind, row["rule_id"], row["event.dataset"], _key_fields(row), row["_window"])


def _upsert(
    session: Session,
    row: dict[str, Any],
    digest: str,
    assets: AssetIndex,
    now: datetime,
    kind: str,
    paths: Mapping[str, str],
) -> tuple[Alert, bool]:
    key = _key_fields(row)
    window: datetime = row["_window"]
    alert = session.scalars(_locked(digest)).one_or_none()
    if alert is not None:
        return alert, False
    tags = tuple(row["tags"] or ())
    identifiers = [key.get("host.name")] + [
        s.get(f) for s in row["_samples"] for f in ("source.ip", "destination.ip")
    ]
    asset = assets.find(i for i in identifiers if i)
    alert = Alert(
        dedup_key=digest,
        kind=kind,
        rule_id=row["rule_id"],
        rule_title=(row["rule_title"] or row["rule_id"])[:500],
        rule_author=(row["author"] or "")[:1000],
        rule_path=paths.get(row["rule_id"], "")[:1000],
        severity=_severity(row["level"]),
        tactics=list(attack_tactics(tags)),
        techniques=list(attack_techniques(tags)),
        dataset=row["event.dataset"],
        key_fields=key,
        asset_id=asset.id if asset else None,
        asset_name=asset.name if asset else "",
        sector=asset.sector if asset else None,
        window_start=window,
        first_seen=row["_first"],
        last_seen=row["_last"],
        count=0,
        status="new",
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():  # another writer may create the same alert first
            session.add(alert)
            session.flush()
    except IntegrityError:
        found = session.scalars(_locked(digest)).one()
        return found, False
    return alert, True


def _locked(digest: str) -> Select[Alert]:
    """The alert of `digest`, its row locked until the transaction ends (PostgreSQL; SQLite
    has one writer at a time anyway): two workers adding batches to one alert would otherwise
    each sum the batches without the other's and the last commit would lose a batch's count.
    `populate_existing`: the session may hold the row from before the lock."""
    return (
        select(Alert)
        .where(Alert.dedup_key == digest)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _add_batch(
    session: Session, alert: Alert, row: dict[str, Any], batch_id: str, samples: int
) -> None:
    first, last, n = row["_first"], row["_last"], int(row["_n"])
    part = session.scalars(
        select(AlertBatch).where(AlertBatch.alert_id == alert.id, AlertBatch.batch_id == batch_id)
    ).one_or_none()
    if part is None:
        session.add(
            AlertBatch(
                alert_id=alert.id, batch_id=batch_id, matches=n, first_seen=first, last_seen=last
            )
        )
    else:  # the same batch again: replace, never add
        part.matches, part.first_seen, part.last_seen = n, first, last
    session.flush()
    total, low, high = session.execute(
        select(
            func.sum(AlertBatch.matches),
            func.min(AlertBatch.first_seen),
            func.max(AlertBatch.last_seen),
        ).where(AlertBatch.alert_id == alert.id)
    ).one()
    alert.count, alert.first_seen, alert.last_seen = int(total), as_utc(low), as_utc(high)
    alert.updated_at = max(alert.updated_at, alert.last_seen, as_utc(alert.created_at))
    _add_samples(session, alert, row, batch_id, samples)


def _add_samples(
    session: Session, alert: Alert, row: dict[str, Any], batch_id: str, samples: int
) -> None:
    have = session.scalar(select(func.count()).where(AlertEvent.alert_id == alert.id)) or 0
    done = set(
        session.scalars(
            select(AlertEvent.ordinal).where(
                AlertEvent.alert_id == alert.id, AlertEvent.batch_id == batch_id
            )
        )
    )
    for ordinal, event in enumerate(row["_samples"]):
        if have >= samples:
            break
        if ordinal in done:
            continue
        raw = event["_raw"] or ""
        session.add(
            AlertEvent(
                alert_id=alert.id,
                batch_id=batch_id,
                ordinal=ordinal,
                dataset=row["event.dataset"],
                event_time=event["@timestamp"],
                line=event["_line"],
                source=(event["_source"] or "")[:500],
                raw=raw[:_RAW_LIMIT],
                fields={f: event[f] for f in MATCH_FIELDS if event[f] is not None},
            )
        )
        have += 1
    session.flush()
