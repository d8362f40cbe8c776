"""Vulnerability use cases for the adapters: store synced feeds, list and change findings,
re-assess after a policy or feed change.

`scope` is the set of sectors the caller may see (`assets.scope_of(principal)`), None for all;
a finding on an asset outside it does not exist for the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from civicshield.assets.models import Asset
from civicshield.core.actor import SYSTEM, Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector
from civicshield.core.errors import Invalid, NotFound
from civicshield.vulns.enums import CLOSED_STATUSES, Decision, FindingStatus
from civicshield.vulns.findings import (
    assess_findings,
    expire_acceptances,
    findings_of,
    is_overdue,
    set_status,
)
from civicshield.vulns.matching import match_inventory
from civicshield.vulns.models import Cve, Finding, FindingChange
from civicshield.vulns.scan_import import import_scan
from civicshield.vulns.scanners import parse_scan
from civicshield.vulns.schemas import (
    CveRead,
    FindingChangeRead,
    FindingDetail,
    FindingFilter,
    FindingPage,
    FindingRead,
    MatchSummary,
    ScanImportSummary,
    StatusChange,
)
from civicshield.vulns.store import StoreSummary, store_epss, store_kev, store_records
from civicshield.vulns.sync import SyncReport

__all__ = [
    "InventoryFollowUp",
    "change_status",
    "change_statuses",
    "follow_inventory_import",
    "get_cve",
    "get_finding",
    "list_findings",
    "reassess",
    "store_report",
]

Scope = Collection[Sector] | None
_OPEN = sorted(s.value for s in FindingStatus if s not in CLOSED_STATUSES)


def store_report(
    session: Session, report: SyncReport, *, clock: Clock, actor: Actor = SYSTEM
) -> tuple[list[StoreSummary], int]:
    """Write what `sync_feeds` loaded, then re-assess the findings of every CVE that changed.
    Returns the per-source summaries and how many findings changed decision."""
    summaries: list[StoreSummary] = []
    for src in report.sources:
        if src.status == "skipped":
            continue
        result: Any = src.result
        if src.source == "kev":
            summaries.append(store_kev(session, result, clock=clock))
        elif src.source == "epss":
            summaries.append(store_epss(session, result, clock=clock))
        else:
            summaries.append(store_records(session, result.items, clock=clock, source=src.source))
    session.flush()
    changed_ids = set().union(*(s.changed_ids for s in summaries)) if summaries else set()
    changed = assess_findings(session, findings_of(session, changed_ids), clock=clock, actor=actor)
    return summaries, changed


def reassess(session: Session, *, clock: Clock, actor: Actor = SYSTEM) -> int:
    """Re-assess every finding (after a policy change); expired acceptances re-open first."""
    expire_acceptances(session, clock=clock, actor=actor)
    return assess_findings(
        session, list(session.scalars(select(Finding))), clock=clock, actor=actor
    )


def _read(f: Finding, asset: Asset, cve: Cve | None, today: Any) -> FindingRead:
    data = {c: getattr(f, c) for c in FindingRead.model_fields if hasattr(f, c)}
    return FindingRead(
        **data,
        asset_name=asset.name,
        sector=asset.sector,
        zone=asset.zone,
        overdue=is_overdue(f, today),
        kev=bool(cve and cve.kev_date_added),
        epss=cve.epss if cve else None,
    )


def _filtered(f: FindingFilter, scope: Scope, today: Any) -> Any:
    query = select(Finding, Asset, Cve).join(Asset, Asset.id == Finding.asset_id)
    query = query.outerjoin(Cve, Cve.cve_id == Finding.cve_id)
    if scope is not None:
        query = query.where(Asset.sector.in_(sorted(s.value for s in scope)))
    if f.sector:
        query = query.where(Asset.sector.in_([s.value for s in f.sector]))
    if f.status:
        query = query.where(Finding.status.in_([s.value for s in f.status]))
    if f.open_only:
        query = query.where(Finding.status.in_(_OPEN))
    if f.decision:
        query = query.where(Finding.decision.in_([d.value for d in f.decision]))
    if f.severity:
        query = query.where(Finding.severity.in_(f.severity))
    if f.asset_id is not None:
        query = query.where(Finding.asset_id == f.asset_id)
    if f.cve_id:
        query = query.where(Finding.cve_id == f.cve_id.strip().upper())
    if f.kev is not None:
        query = query.where(
            Cve.kev_date_added.is_not(None) if f.kev else Cve.kev_date_added.is_(None)
        )
    if f.overdue is not None:
        late = (
            Finding.due_date < today,
            Finding.status.in_(_OPEN),
            or_(
                Finding.status != FindingStatus.ACCEPTED.value,
                Finding.accepted_until <= today,
            ),
        )
        query = query.where(*late) if f.overdue else query.where(~(late[0] & late[1] & late[2]))
    if f.q:
        like = f"%{f.q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Finding.cve_id).like(like),
                func.lower(Asset.name).like(like),
                func.lower(Finding.component).like(like),
                func.lower(cast(Finding.sources, String)).like(like),
            )
        )
    return query


def list_findings(
    session: Session,
    filters: FindingFilter | None = None,
    *,
    clock: Clock,
    scope: Scope = None,
    limit: int = 50,
    offset: int = 0,
) -> FindingPage:
    """Most urgent first: open before closed, then priority (decision, KEV, EPSS, CVSS…), then
    due date."""
    today = clock.now().date()
    query = _filtered(filters or FindingFilter(), scope, today)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    sub = query.with_only_columns(Finding.decision, Finding.status).subquery()
    counts = {d.value: 0 for d in Decision}
    for decision, n in session.execute(
        select(sub.c.decision, func.count()).where(sub.c.status.in_(_OPEN)).group_by(sub.c.decision)
    ):
        if decision:
            counts[decision] = n
    closed_last = case((Finding.status.in_(_OPEN), 0), else_=1)
    rows = session.execute(
        query.order_by(
            closed_last, Finding.priority, Finding.due_date.is_(None), Finding.due_date, Finding.id
        )
        .limit(limit)
        .offset(offset)
    ).all()
    return FindingPage(
        items=[_read(f, a, c, today) for f, a, c in rows],
        total=total,
        limit=limit,
        offset=offset,
        counts=counts,
    )


def _load(session: Session, finding_id: int, scope: Scope) -> tuple[Finding, Asset]:
    f = session.get(Finding, finding_id)
    asset = session.get(Asset, f.asset_id) if f is not None else None
    if f is None or asset is None or (scope is not None and Sector(asset.sector) not in scope):
        raise NotFound(f"finding {finding_id} does not exist")
    return f, asset


def get_finding(
    session: Session, finding_id: int, *, clock: Clock, scope: Scope = None
) -> FindingDetail:
    f, asset = _load(session, finding_id, scope)
    cve = session.get(Cve, f.cve_id)
    history = session.scalars(
        select(FindingChange)
        .where(FindingChange.finding_id == f.id)
        .order_by(FindingChange.at.desc(), FindingChange.id.desc())
    )
    base = _read(f, asset, cve, clock.now().date())
    return FindingDetail(
        **base.model_dump(),
        evidence=f.evidence,
        history=[FindingChangeRead.model_validate(h) for h in history],
        cve=CveRead.model_validate(cve) if cve is not None else None,
    )


def get_cve(session: Session, cve_id: str) -> CveRead:
    cve = session.get(Cve, cve_id.strip().upper())
    if cve is None:
        raise NotFound(f"{cve_id} is not in the vulnerability store (run `vulns sync`)")
    return CveRead.model_validate(cve)


def change_status(
    session: Session,
    finding_id: int,
    change: StatusChange,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> FindingDetail:
    f, _ = _load(session, finding_id, scope)
    set_status(
        session,
        f,
        status=change.status,
        reason=change.reason,
        accepted_until=change.accepted_until,
        approver=change.approver,
        actor=actor,
        clock=clock,
    )
    session.flush()
    return get_finding(session, finding_id, clock=clock, scope=scope)


def change_statuses(
    session: Session,
    finding_ids: Sequence[int],
    change: StatusChange,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> int:
    """The same change on many findings, all or nothing. Returns how many changed."""
    if not finding_ids:
        raise Invalid("choose at least one finding")
    if len(finding_ids) > 1000:
        raise Invalid("at most 1,000 findings per bulk change")
    changed = 0
    for fid in dict.fromkeys(finding_ids):
        f, _ = _load(session, fid, scope)
        changed += set_status(
            session,
            f,
            status=change.status,
            reason=change.reason,
            accepted_until=change.accepted_until,
            approver=change.approver,
            actor=actor,
            clock=clock,
        )
    session.flush()
    return changed


class InventoryFollowUp(BaseModel):
    """What an inventory import set off in vulnerabilities: matching of the assets it created
    or changed and, for an Nmap scan, the findings of its `vulners` script."""

    match: MatchSummary
    scan: ScanImportSummary | None = None


def follow_inventory_import(
    session: Session,
    *,
    asset_ids: Collection[int],
    fmt: str,
    data: bytes | None,
    source: str,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> InventoryFollowUp:
    """Call after `assets.apply`: the new and changed assets get their findings at once."""
    scan = None
    if fmt == "nmap" and data is not None:
        report = parse_scan(data, source=source, fmt="nmap-xml")
        if report.findings:
            scan = import_scan(session, report, actor=actor, clock=clock, scope=scope)
    summary = (
        match_inventory(session, actor=actor, clock=clock, asset_ids=asset_ids, scope=scope)
        if asset_ids
        else MatchSummary()
    )
    return InventoryFollowUp(match=summary, scan=scan)
