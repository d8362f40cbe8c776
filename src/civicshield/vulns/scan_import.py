"""Merge a parsed scanner report (`vulns.scanners`) into findings, per (asset, CVE, component).

Which asset: the one the caller names (`target_asset_id`), else the inventory asset with one of
the result's IPs, host names or MACs, else (image/SBOM scans without a host) the asset whose own
purl/CPE or software matches the scan's subject. A result no asset can be found for is reported
as a problem with its location; the rest still merges. Which component: the asset's software with
the same purl (else the same name and version); otherwise the purl, CPE or `name@version` text.

A rescan by the same tool removes that tool as a source from the asset's findings it no longer
reports (with no source left they become fixed). VEX statements set the status: `not_affected`
and `false_positive` make the finding a false positive with CycloneDX's justification and detail
as the reason, `resolved` makes it fixed; a statement about a CVE the asset has no finding for yet
creates one already closed, so a later match does not raise it again. Importing the same report
twice changes nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.assets.models import Asset, Software
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector
from civicshield.core.errors import NotFound
from civicshield.vulns.enums import FindingStatus
from civicshield.vulns.findings import assess_findings, retire_source, see, set_status
from civicshield.vulns.models import Finding
from civicshield.vulns.scanners.model import ComponentRef, HostRef, ScanReport, VexStatement
from civicshield.vulns.schemas import ScanImportSummary

__all__ = ["import_scan"]

_FP_STATES = {"not_affected", "false_positive"}
_FIXED_STATES = {"resolved", "resolved_with_pedigree"}


def _ip(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip().lower()


@dataclass
class _Inventory:
    assets: dict[int, Asset] = field(default_factory=dict)
    by_key: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    software: dict[int, list[Software]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session, scope: Collection[Sector] | None) -> _Inventory:
        inv = cls()
        query = select(Asset)
        if scope is not None:
            query = query.where(Asset.sector.in_(sorted(s.value for s in scope)))
        for a in session.scalars(query):
            inv.assets[a.id] = a
            keys = [("ip", _ip(i)) for i in a.ips] + [("host", h.lower()) for h in a.hostnames]
            keys += [("mac", m.lower()) for m in a.macs]
            keys += [("id", x) for x in (a.purl, a.cpe) if x]
            for key in keys:
                inv.by_key.setdefault(key, set()).add(a.id)
        for sw in session.scalars(select(Software)):
            if sw.asset_id in inv.assets:
                inv.software.setdefault(sw.asset_id, []).append(sw)
                for x in (sw.purl, sw.cpe):
                    if x:
                        inv.by_key.setdefault(("sw", x), set()).add(sw.asset_id)
        return inv

    def host(self, ref: HostRef) -> tuple[int | None, str]:
        """The asset for a host, or None and why not."""
        keys = [("mac", m) for m in ref.macs] + [("host", h) for h in ref.hostnames]
        keys += [("ip", _ip(i)) for i in ref.ips]
        for key in keys:
            hits = self.by_key.get(key, set())
            if len(hits) == 1:
                return next(iter(hits)), ""
            if len(hits) > 1:
                return None, f"{key[0]} {key[1]} is on {len(hits)} assets; import with an asset id"
        named = ", ".join([*ref.ips, *ref.hostnames, *ref.macs]) or "no identifiers"
        return None, f"no asset in the inventory for host {named}"

    def subject(self, ref: ComponentRef | None) -> tuple[int | None, str]:
        if ref is None:
            return None, "the report names no host; choose the asset it is about"
        for kind, value in (("id", ref.purl), ("id", ref.cpe), ("sw", ref.purl), ("sw", ref.cpe)):
            hits = self.by_key.get((kind, value or ""), set())
            if len(hits) == 1:
                return next(iter(hits)), ""
        label = ref.purl or ref.cpe or ref.name
        return None, f"no asset in the inventory for {label}; choose the asset it is about"

    def component(self, asset_id: int, ref: ComponentRef | None) -> tuple[str, int | None]:
        if ref is None:
            return "", None
        items = self.software.get(asset_id, [])
        for sw in items:
            if ref.purl and sw.purl == ref.purl:
                return sw.key, sw.id
        for sw in items:
            if sw.name.lower() == ref.name.lower() and (sw.version or "") == (ref.version or ""):
                return sw.key, sw.id
        asset = self.assets[asset_id]
        if (ref.purl and ref.purl == asset.purl) or (ref.cpe and ref.cpe == asset.cpe):
            return "", None
        text = ref.purl or ref.cpe or f"{ref.name}@{ref.version or ''}"
        return text[:600], None


def _evidence(f: Any) -> dict[str, Any]:
    return {
        "title": f.title,
        "severity": f.severity,
        "cvss_vector": f.cvss_vector,
        "cvss_score": f.cvss_score,
        "epss": f.epss,
        "fix_versions": list(f.fix_versions),
        "tool_ref": f.tool_ref,
        "aliases": list(f.aliases),
        "detail": f.detail,
    }


def import_scan(
    session: Session,
    report: ScanReport,
    *,
    actor: Actor,
    clock: Clock,
    scope: Collection[Sector] | None = None,
    target_asset_id: int | None = None,
) -> ScanImportSummary:
    inv = _Inventory.load(session, scope)
    if target_asset_id is not None and target_asset_id not in inv.assets:
        raise NotFound(f"asset {target_asset_id} does not exist")
    summary = ScanImportSummary(source=report.source, tool=report.tool, format=report.format)
    summary.problems = [{"location": p.location, "message": p.message} for p in report.problems]
    subject_asset, subject_why = (
        (target_asset_id, "") if target_asset_id is not None else inv.subject(report.subject)
    )
    touched: list[Finding] = []
    asset_id: int | None
    # One finding per (asset, CVE, component): a tool may report it several times (ports,
    # file paths); their evidence is kept together, in file order, so re-imports compare equal.
    grouped: dict[tuple[int, str, str], tuple[int | None, list[dict[str, Any]]]] = {}
    for item in report.findings:
        summary.read += 1
        if target_asset_id is not None:
            asset_id, why = target_asset_id, ""
        elif item.host is not None:
            asset_id, why = inv.host(item.host)
        else:
            asset_id, why = subject_asset, subject_why
        if asset_id is None:
            summary.problems.append({"location": item.location, "message": why})
            continue
        component, sw_id = inv.component(asset_id, item.component)
        key = (asset_id, item.vuln_id, component)
        grouped.setdefault(key, (sw_id, []))[1].append(_evidence(item))
    seen: dict[int, set[tuple[str, str]]] = {}
    for (asset_id, vuln_id, component), (sw_id, results) in grouped.items():
        evidence = results[0] if len(results) == 1 else {**results[0], "results": results}
        f, action = see(
            session,
            asset_id=asset_id,
            cve_id=vuln_id,
            component=component,
            source=report.tool,
            evidence=evidence,
            certainty="affected",
            actor=actor,
            clock=clock,
            software_id=sw_id,
        )
        seen.setdefault(asset_id, set()).add((vuln_id, component))
        summary.created += action == "created"
        summary.updated += action in ("updated", "reopened")
        summary.unchanged += action == "unchanged"
        touched.append(f)
    for statement in report.vex:
        summary.read += 1
        asset_id = subject_asset
        if asset_id is None:
            summary.problems.append({"location": statement.location, "message": subject_why})
            continue
        touched.extend(_apply_vex(session, inv, asset_id, statement, summary, actor, clock))
    for asset_id, keys in seen.items():
        stale = session.scalars(select(Finding).where(Finding.asset_id == asset_id)).all()
        for f in stale:
            if report.tool in f.sources and (f.cve_id, f.component) not in keys:
                retire_source(
                    session, f, report.tool, actor=actor, clock=clock,
                    reason=f"not reported by the {report.tool} scan {report.source}",
                )  # fmt: skip
    session.flush()
    assess_findings(session, touched, clock=clock, actor=actor)
    return summary


def _apply_vex(
    session: Session,
    inv: _Inventory,
    asset_id: int,
    st: VexStatement,
    summary: ScanImportSummary,
    actor: Actor,
    clock: Clock,
) -> list[Finding]:
    component, sw_id = inv.component(asset_id, st.component)
    existing = session.scalars(
        select(Finding).where(Finding.asset_id == asset_id, Finding.cve_id == st.vuln_id)
    ).all()
    targets = [f for f in existing if st.component is None or f.component == component]
    evidence = {
        "state": st.state,
        "justification": st.justification,
        "detail": st.detail,
        "response": list(st.response),
    }
    if not targets:
        f, _ = see(
            session, asset_id=asset_id, cve_id=st.vuln_id, component=component, source="vex",
            evidence=evidence, certainty="affected", actor=actor, clock=clock, software_id=sw_id,
        )  # fmt: skip
        targets = [f]
        summary.created += 1
    status = (
        FindingStatus.FALSE_POSITIVE
        if st.state in _FP_STATES
        else FindingStatus.FIXED
        if st.state in _FIXED_STATES
        else None
    )
    for f in targets:
        if f.evidence.get("vex") != evidence:
            f.evidence = {**f.evidence, "vex": evidence}
        if status is None:
            continue
        reason = "; ".join(x for x in (f"VEX {st.state}", st.justification, st.detail) if x)
        changed = set_status(
            session, f, status=status, reason=reason[:2000], accepted_until=None, approver=None,
            actor=actor, clock=clock,
        )  # fmt: skip
        if changed and status is FindingStatus.FALSE_POSITIVE:
            summary.false_positive += 1
        elif not changed:
            summary.unchanged += 1
    return targets
