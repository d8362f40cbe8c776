"""Match the inventory against the stored CVEs and keep the matcher's findings current.

Each active asset is matched with all its CPEs at once (its own CPE and its software's), so a
"firmware running on hardware" configuration sees both. A match is recorded on the component
whose CPE hit (the asset itself when its own CPE did). A finding the matcher made before and no
longer makes (the version moved past the range, the software was removed) loses the matcher as a
source and, with no other source, becomes fixed. Components with a package URL are also
looked up in the package index (`vulns.packages`, from CVE JSON 5 `collectionURL` +
`packageName`).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.assets.models import Asset, Software
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector
from civicshield.vulns.applicability import configurations_from_json
from civicshield.vulns.cpe import Cpe, CpeError, parse_cpe
from civicshield.vulns.findings import assess_findings, retire_source, see
from civicshield.vulns.matcher import Certainty, Matcher
from civicshield.vulns.models import Cve, Finding
from civicshield.vulns.packages import PackageIndex, PackageSpec
from civicshield.vulns.schemas import MatchSummary

__all__ = ["MATCHER", "Matchers", "load_matcher", "match_inventory"]

MATCHER = "matcher"


@dataclass
class Matchers:
    """The CPE matcher and the package (purl) index over the stored CVEs."""

    cpe: Matcher
    packages: PackageIndex
    cves: int


def load_matcher(session: Session) -> Matchers:
    rows = session.execute(
        select(Cve.cve_id, Cve.applicability, Cve.applicability_source, Cve.packages)
    ).all()
    cves = [configurations_from_json(cid, app, src or "nvd") for cid, app, src, _ in rows if app]
    packages = [(cid, [PackageSpec.from_json(p) for p in pkgs]) for cid, _, _, pkgs in rows if pkgs]
    used = {cid for cid, app, _, pkgs in rows if app or pkgs}
    return Matchers(Matcher(cves), PackageIndex(packages), len(used))


Hit = tuple[str, str, int | None, Certainty, dict[str, object]]


def _package_hits(asset: Asset, software: list[Software], index: PackageIndex) -> list[Hit]:
    """(cve_id, component, software id, certainty, evidence) for every purl that hits."""
    out: list[Hit] = []
    owners = [(asset.purl, "", None), *((s.purl, s.key, s.id) for s in software)]
    for purl, component, sw_id in owners:
        if not purl:
            continue
        for hit in index.match(purl):
            evidence: dict[str, object] = {
                "why": hit.why,
                "purl": purl,
                "criterion": hit.spec.describe(),
                "where": hit.spec.where,
            }
            certainty = Certainty.AFFECTED if hit.certain else Certainty.POSSIBLE
            out.append((hit.cve_id, component, sw_id, certainty, evidence))
    return out


def _targets(
    asset: Asset, software: list[Software]
) -> tuple[list[Cpe], dict[str, tuple[str, int | None]]]:
    """The asset's CPEs, and for each CPE text the component it belongs to."""
    owners: dict[str, tuple[str, int | None]] = {}
    cpes: list[Cpe] = []
    for text, component, sw_id in [
        (asset.cpe, "", None),
        *((s.cpe, s.key, s.id) for s in software),
    ]:
        if not text:
            continue
        try:
            cpe = parse_cpe(text)
        except CpeError:
            continue  # validated on the way in; an old bad value must not stop the run
        # The matcher reports the normalised CPE (vendor/product aliases resolved).
        owners.setdefault(cpe.to_fs(), (component, sw_id))
        owners.setdefault(cpe.normalised().to_fs(), (component, sw_id))
        cpes.append(cpe)
    return cpes, owners


def match_inventory(
    session: Session,
    *,
    actor: Actor,
    clock: Clock,
    asset_ids: Collection[int] | None = None,
    scope: Collection[Sector] | None = None,
    matchers: Matchers | None = None,
) -> MatchSummary:
    started = time.perf_counter()
    summary = MatchSummary()
    if matchers is None:
        matchers = load_matcher(session)
    summary.cves = matchers.cves
    query = select(Asset).where(Asset.lifecycle == "active")
    if asset_ids is not None:
        query = query.where(Asset.id.in_(sorted(asset_ids)))
    if scope is not None:
        query = query.where(Asset.sector.in_(sorted(s.value for s in scope)))
    assets = list(session.scalars(query.order_by(Asset.id)))
    ids = [a.id for a in assets]
    software: dict[int, list[Software]] = {}
    previous: dict[int, dict[tuple[str, str], Finding]] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for sw in session.scalars(select(Software).where(Software.asset_id.in_(chunk))):
            software.setdefault(sw.asset_id, []).append(sw)
        for f in session.scalars(select(Finding).where(Finding.asset_id.in_(chunk))):
            previous.setdefault(f.asset_id, {})[(f.cve_id, f.component)] = f
    touched: list[Finding] = []
    for asset in assets:
        cpes, owners = _targets(asset, software.get(asset.id, []))
        summary.assets += 1
        summary.cpes += len(cpes)
        best: dict[tuple[str, str], tuple[Certainty, dict[str, object], int | None]] = {}
        for hit in matchers.cpe.match(cpes) if cpes else []:
            component, sw_id = owners[hit.asset_cpe.to_fs()]
            key = (hit.cve_id, component)
            evidence: dict[str, object] = {
                "why": hit.why,
                "asset_cpe": hit.asset_cpe.to_fs(),
                "criterion": hit.criterion.describe(),
                "match_criteria_id": hit.criterion.match_criteria_id,
                "configuration": hit.configuration,
            }
            if key not in best or hit.certainty > best[key][0]:
                best[key] = (hit.certainty, evidence, sw_id)
        for cve_id, component, sw_id, certainty, evidence in _package_hits(
            asset, software.get(asset.id, []), matchers.packages
        ):
            key = (cve_id, component)
            if key not in best or certainty > best[key][0]:
                best[key] = (certainty, evidence, sw_id)
        known = previous.get(asset.id, {})
        for (cve_id, component), (certainty, evidence, sw_id) in best.items():
            f, action = see(
                session,
                asset_id=asset.id,
                cve_id=cve_id,
                component=component,
                source=MATCHER,
                evidence=evidence,
                certainty="affected" if certainty is Certainty.AFFECTED else "possible",
                actor=actor,
                clock=clock,
                software_id=sw_id,
                existing=known.get((cve_id, component)),
            )
            summary.created += action == "created"
            summary.reopened += action == "reopened"
            summary.still_open += action in ("updated", "unchanged")
            touched.append(f)
        for key, f in known.items():
            if key in best or MATCHER not in f.sources:
                continue
            what = _describe_now(asset, software.get(asset.id, []), f.component)
            if retire_source(
                session, f, MATCHER, reason=f"no longer matches: {what}", actor=actor, clock=clock
            ):
                summary.fixed += 1
    session.flush()
    assess_findings(session, touched, clock=clock, actor=actor)
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _describe_now(asset: Asset, software: list[Software], component: str) -> str:
    if not component:
        return f"the asset is now {asset.cpe or 'without a CPE'}"
    for sw in software:
        if sw.key == component:
            return f"{sw.name} is now {sw.cpe or sw.version or 'without a version'}"
    return f"{component} is no longer on the asset"
