"""Findings: one CVE on one asset (or one component of it), with status, history and priority.

Sources merge into one row per (asset, CVE, component): our matcher and each scanner add their
name to `sources` and their details to `evidence`. The life cycle:
* a source that reports a finding again re-opens it when it was `fixed` (counted in `reopened`);
* a source that no longer reports it (the asset's version moved past the range, a rescan of the
  host without it) removes itself; with no source left, an open finding becomes `fixed`;
* `accepted` lasts until `accepted_until`, then `expire_acceptances` re-opens it;
* every change is a `FindingChange` row (who, when, old, new, why) and an audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.assets.models import Asset
from civicshield.core.actor import SYSTEM, Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import FieldError, Invalid
from civicshield.vulns.enums import CLOSED_STATUSES, FindingStatus
from civicshield.vulns.models import Cve, Finding, FindingChange
from civicshield.vulns.policy_store import current_policy
from civicshield.vulns.priority import AssetFacts, CveFacts, Policy, assess

__all__ = [
    "assess_findings",
    "expire_acceptances",
    "find",
    "findings_of",
    "is_overdue",
    "record_change",
    "retire_source",
    "see",
    "set_status",
]

# Statuses a fresh report of the finding does not override (a person decided them).
_KEEP_ON_SIGHTING = frozenset(
    {FindingStatus.ACCEPTED, FindingStatus.FALSE_POSITIVE, FindingStatus.MITIGATED}
)


def record_change(
    session: Session,
    finding: Finding,
    changes: dict[str, tuple[Any, Any]],
    *,
    actor: Actor,
    clock: Clock,
    reason: str = "",
) -> None:
    now = clock.now()
    for name, (old, new) in changes.items():
        session.add(
            FindingChange(
                finding_id=finding.id,
                at=now,
                actor=actor.label,
                actor_id=actor.user_id,
                field=name,
                old=_json(old),
                new=_json(new),
                reason=reason,
            )
        )


def _json(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def find(session: Session, asset_id: int, cve_id: str, component: str) -> Finding | None:
    return session.execute(
        select(Finding).where(
            Finding.asset_id == asset_id,
            Finding.cve_id == cve_id,
            Finding.component == component,
        )
    ).scalar_one_or_none()


def see(
    session: Session,
    *,
    asset_id: int,
    cve_id: str,
    component: str,
    source: str,
    evidence: dict[str, Any],
    certainty: str,
    actor: Actor,
    clock: Clock,
    software_id: int | None = None,
    existing: Finding | None = None,
) -> tuple[Finding, str]:
    """`source` reports the finding now. Returns it and what happened: created, reopened,
    updated (new source or evidence) or unchanged."""
    now = clock.now()
    f = existing if existing is not None else find(session, asset_id, cve_id, component)
    if f is None:
        f = Finding(
            asset_id=asset_id,
            cve_id=cve_id,
            component=component,
            software_id=software_id,
            status=FindingStatus.OPEN.value,
            status_reason="",
            certainty=certainty,
            sources=[source],
            evidence={source: evidence},
            first_seen=now,
            last_seen=now,
            reopened=0,
            approved_by="",
            priority=0,
            explanation=[],
            cvss_vector="",
            created_at=now,
            updated_at=now,
        )
        session.add(f)
        session.flush()
        record_change(
            session, f, {"status": (None, f.status)}, actor=actor, clock=clock,
            reason=f"reported by {source}",
        )  # fmt: skip
        return f, "created"
    action = "unchanged"
    changes: dict[str, tuple[Any, Any]] = {}
    if source not in f.sources:
        f.sources = sorted({*f.sources, source})
        action = "updated"
    if f.evidence.get(source) != evidence:
        f.evidence = {**f.evidence, source: evidence}
        action = "updated"
    if source == "matcher" and certainty != f.certainty:  # only the matcher judges certainty
        changes["certainty"] = (f.certainty, certainty)
        f.certainty = certainty
    if f.status == FindingStatus.FIXED.value:
        changes["status"] = (f.status, FindingStatus.OPEN.value)
        f.status, f.fixed_at, f.status_reason = FindingStatus.OPEN.value, None, ""
        f.reopened += 1
        action = "reopened"
    if software_id is not None and f.software_id != software_id:
        f.software_id = software_id
    f.last_seen = now
    if action != "unchanged" or changes:
        f.updated_at = now
        if action == "unchanged":
            action = "updated"
    if changes:
        record_change(
            session, f, changes, actor=actor, clock=clock, reason=f"reported again by {source}"
        )
    return f, action


def retire_source(
    session: Session, f: Finding, source: str, *, reason: str, actor: Actor, clock: Clock
) -> bool:
    """`source` no longer reports `f`; with no source left, an open finding becomes fixed.
    Returns True when the finding became fixed."""
    if source not in f.sources:
        return False
    f.sources = [s for s in f.sources if s != source]
    f.updated_at = clock.now()
    if f.sources or FindingStatus(f.status) in CLOSED_STATUSES:
        return False
    old = f.status
    f.status, f.fixed_at, f.status_reason = FindingStatus.FIXED.value, clock.now(), reason
    record_change(session, f, {"status": (old, f.status)}, actor=actor, clock=clock, reason=reason)
    return True


def _field(name: str, message: str) -> Invalid:
    return Invalid(message, [FieldError(("body", name), message)])


def set_status(
    session: Session,
    f: Finding,
    *,
    status: FindingStatus,
    reason: str,
    accepted_until: date | None,
    approver: str | None,
    actor: Actor,
    clock: Clock,
) -> bool:
    """A person's decision on a finding. Returns False when nothing changed."""
    reason = reason.strip()
    if len(reason) > 2000:
        raise _field("reason", "the reason is longer than 2,000 characters")
    today = clock.now().date()
    if status is FindingStatus.ACCEPTED:
        if accepted_until is None:
            raise _field("accepted_until", "accepting a risk needs an expiry date")
        if accepted_until <= today:
            raise _field("accepted_until", f"the expiry must be after today ({today})")
        if not reason:
            raise _field("reason", "say why the risk is accepted")
    elif accepted_until is not None:
        raise _field("accepted_until", "an expiry date only applies to an accepted risk")
    if status is FindingStatus.FALSE_POSITIVE and not reason:
        raise _field("reason", "say why this is a false positive")
    new_approver = (approver or actor.label).strip() if status is FindingStatus.ACCEPTED else ""
    new = {
        "status": status.value,
        "status_reason": reason,
        "accepted_until": accepted_until,
        "approved_by": new_approver,
    }
    changes = {k: (getattr(f, k), v) for k, v in new.items() if getattr(f, k) != v}
    if not changes:
        return False
    for key, (_, value) in changes.items():
        setattr(f, key, value)
    now = clock.now()
    f.fixed_at = now if status is FindingStatus.FIXED else None
    f.updated_at = now
    record_change(session, f, changes, actor=actor, clock=clock, reason=reason)
    audit.record(
        session,
        actor=actor,
        action="finding.status",
        entity_type="finding",
        entity_id=f.id,
        clock=clock,
        summary=f"{f.cve_id} on asset {f.asset_id}: {status.value}",
        changes={k: [_json(o), _json(n)] for k, (o, n) in changes.items()},
    )
    return True


def expire_acceptances(session: Session, *, clock: Clock, actor: Actor = SYSTEM) -> int:
    """Accepted risks past their expiry go back to open. Returns how many."""
    today = clock.now().date()
    due = session.scalars(
        select(Finding).where(
            Finding.status == FindingStatus.ACCEPTED.value, Finding.accepted_until <= today
        )
    ).all()
    for f in due:
        reason = f"risk acceptance expired on {f.accepted_until}"
        changes: dict[str, tuple[Any, Any]] = {
            "status": (f.status, FindingStatus.OPEN.value),
            "accepted_until": (f.accepted_until, None),
        }
        f.status, f.accepted_until, f.status_reason = FindingStatus.OPEN.value, None, reason
        f.updated_at = clock.now()
        record_change(session, f, changes, actor=actor, clock=clock, reason=reason)
    return len(due)


def is_overdue(f: Finding, today: date) -> bool:
    status = FindingStatus(f.status)
    if status in CLOSED_STATUSES or f.due_date is None:
        return False
    if status is FindingStatus.ACCEPTED and f.accepted_until and f.accepted_until > today:
        return False
    return f.due_date < today


def _facts(cve: Cve | None, cve_id: str, f: Finding) -> CveFacts:
    scanner_cvss = None
    for source in f.sources:
        ev = f.evidence.get(source) or {}
        if ev.get("cvss_vector") or ev.get("cvss_score") is not None:
            scanner_cvss = (ev.get("cvss_vector"), ev.get("cvss_score"))
            break
    scanner_severity = next(
        (
            ev.get("severity")
            for ev in f.evidence.values()
            if isinstance(ev, dict) and ev.get("severity")
        ),
        None,
    )
    if cve is None:
        return CveFacts(
            cve_id=cve_id,
            scanner_cvss=scanner_cvss,
            scanner_severity=scanner_severity,
            in_store=False,
        )
    return CveFacts(
        cve_id=cve_id,
        cvss=list(cve.cvss),
        ssvc=cve.ssvc,
        kev_date_added=cve.kev_date_added,
        kev_due_date=cve.kev_due_date,
        kev_ransomware=cve.kev_ransomware,
        epss=cve.epss,
        epss_percentile=cve.epss_percentile,
        scanner_cvss=scanner_cvss,
        scanner_severity=scanner_severity,
    )


def assess_findings(
    session: Session,
    findings: Sequence[Finding],
    *,
    clock: Clock,
    actor: Actor = SYSTEM,
    policy: tuple[int, Policy] | None = None,
) -> int:
    """Decide (again) decision, priority, due date and explanation. Returns how many findings
    changed decision (those changes are kept in the history)."""
    if not findings:
        return 0
    version, pol = policy or current_policy(session, clock=clock)
    cve_ids = sorted({f.cve_id for f in findings})
    cves: dict[str, Cve] = {}
    for start in range(0, len(cve_ids), 1000):
        chunk = cve_ids[start : start + 1000]
        cves.update(
            (c.cve_id, c) for c in session.scalars(select(Cve).where(Cve.cve_id.in_(chunk)))
        )
    asset_ids = sorted({f.asset_id for f in findings})
    assets: dict[int, Asset] = {}
    for start in range(0, len(asset_ids), 1000):
        chunk_ids = asset_ids[start : start + 1000]
        assets.update(
            (a.id, a) for a in session.scalars(select(Asset).where(Asset.id.in_(chunk_ids)))
        )
    changed = 0
    for f in findings:
        asset = assets[f.asset_id]
        result = assess(
            _facts(cves.get(f.cve_id), f.cve_id, f),
            AssetFacts(
                criticality=asset.criticality,
                internet_exposed=asset.internet_exposed,
                sector=asset.sector,
                kind=asset.kind,
            ),
            pol,
            first_seen=f.first_seen.date(),
        )
        decision = result.decision.value
        if f.decision is not None and f.decision != decision:
            record_change(
                session, f, {"decision": (f.decision, decision)}, actor=actor, clock=clock,
                reason=f"re-assessed under policy version {version}",
            )  # fmt: skip
            changed += 1
        f.decision = decision
        f.priority = result.priority
        f.severity = result.severity.value if result.severity else None
        f.cvss_score = result.cvss_score
        f.cvss_vector = result.cvss_vector or ""
        f.due_date = result.due_date
        f.explanation = list(result.explanation)
        f.policy_version = version
    return changed


def findings_of(session: Session, cve_ids: Iterable[str]) -> list[Finding]:
    ids = sorted(set(cve_ids))
    out: list[Finding] = []
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        out.extend(session.scalars(select(Finding).where(Finding.cve_id.in_(chunk))))
    return out
