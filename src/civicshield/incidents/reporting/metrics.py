"""Response metrics: time to detect (MTTD: first event → case opened) and time to resolve
(MTTR: case opened → closed), median and mean, by sector and by type (the case's playbook, or
"unclassified"), over a period; and the open cases by status and severity.

Opening and closing times come from the append-only history (`CaseChange` status rows) where it
has them, so a later edit of the case cannot rewrite them; the case's own columns fill the gaps.
MTTD counts cases opened in the period, MTTR cases closed in it. A case in two sectors counts in
both sectors' rows, once in the totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from statistics import mean, median

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.core.clock import as_utc
from civicshield.incidents.cases import Scope
from civicshield.incidents.models import Case, CaseChange

__all__ = ["UNCLASSIFIED", "MetricRow", "Metrics", "compute_metrics"]

UNCLASSIFIED = "unclassified"
NO_SECTOR = "none"


class MetricRow(BaseModel):
    group: str
    detected: int  # cases with a time to detect
    mttd_median_s: float | None
    mttd_mean_s: float | None
    resolved: int  # cases closed in the period
    mttr_median_s: float | None
    mttr_mean_s: float | None


class Metrics(BaseModel):
    since: datetime | None
    until: datetime | None
    total: MetricRow
    by_sector: list[MetricRow]
    by_type: list[MetricRow]
    open_by_status: dict[str, int]
    open_by_severity: dict[str, int]


def _within(at: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    return at is not None and (since is None or at >= since) and (until is None or at < until)


def _row(group: str, ttd: list[float], ttr: list[float]) -> MetricRow:
    return MetricRow(
        group=group,
        detected=len(ttd),
        mttd_median_s=median(ttd) if ttd else None,
        mttd_mean_s=mean(ttd) if ttd else None,
        resolved=len(ttr),
        mttr_median_s=median(ttr) if ttr else None,
        mttr_mean_s=mean(ttr) if ttr else None,
    )


def _times(
    session: Session, ids: Iterable[int]
) -> dict[int, tuple[datetime | None, datetime | None]]:
    """(opened, closed) per case from its status history: the first status row, and the last
    change to "closed" when no later row reopened it."""
    out: dict[int, tuple[datetime | None, datetime | None]] = {}
    rows = session.execute(
        select(CaseChange.case_id, CaseChange.at, CaseChange.new)
        .where(CaseChange.field == "status", CaseChange.case_id.in_(list(ids)))
        .order_by(CaseChange.case_id, CaseChange.at, CaseChange.id)
    )
    for case_id, at, new in rows:
        opened, _ = out.get(case_id, (None, None))
        at = as_utc(at)
        out[case_id] = (opened or at, at if new == "closed" else None)
    return out


def compute_metrics(
    session: Session,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    scope: Scope = None,
) -> Metrics:
    since, until = as_utc(since), as_utc(until)
    cases = list(session.scalars(select(Case).order_by(Case.id)))
    if scope is not None:
        allowed = {s.value for s in scope}
        cases = [c for c in cases if set(c.sectors) & allowed]
    history = _times(session, [c.id for c in cases])
    ttd: dict[str, list[float]] = {}
    ttr: dict[str, list[float]] = {}
    all_ttd: list[float] = []
    all_ttr: list[float] = []
    for case in cases:
        opened, closed = history.get(case.id, (None, None))
        opened = opened or as_utc(case.opened_at)
        closed = (closed or as_utc(case.closed_at)) if case.status == "closed" else None
        sectors = case.sectors or [NO_SECTOR]
        if scope is not None:
            sectors = [s for s in sectors if s in {x.value for x in scope}]
        groups = [f"sector:{s}" for s in sectors] + [f"type:{case.playbook_id or UNCLASSIFIED}"]
        if _within(opened, since, until) or _within(closed, since, until):
            for g in groups:  # a row for every group with a case in the period
                ttd.setdefault(g, [])
        first = as_utc(case.first_event_at)
        if first is not None and opened is not None and _within(opened, since, until):
            value = max(0.0, (opened - first).total_seconds())
            all_ttd.append(value)
            for g in groups:
                ttd.setdefault(g, []).append(value)
        if closed is not None and opened is not None and _within(closed, since, until):
            value = max(0.0, (closed - opened).total_seconds())
            all_ttr.append(value)
            for g in groups:
                ttr.setdefault(g, []).append(value)
    keys = sorted(set(ttd) | set(ttr))
    rows = {k: _row(k.split(":", 1)[1], ttd.get(k, []), ttr.get(k, [])) for k in keys}
    still_open = [c for c in cases if c.status != "closed"]  # now, whatever the period
    return Metrics(
        since=since,
        until=until,
        total=_row("all", all_ttd, all_ttr),
        by_sector=[r for k, r in rows.items() if k.startswith("sector:")],
        by_type=[r for k, r in rows.items() if k.startswith("type:")],
        open_by_status=dict(sorted(Counter(c.status for c in still_open).items())),
        open_by_severity=dict(sorted(Counter(c.severity for c in still_open).items())),
    )
