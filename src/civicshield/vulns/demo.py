"""The demo city's vulnerabilities: its inventory, the local feeds, matching, a little triage.

Runs on every `make run`, so each step is idempotent: assets are created by name, feeds are
loaded only while the store holds no CVE (refreshing them is `civicshield vulns sync`'s job),
triage touches only findings still open, and the single risk snapshot is taken only while none
exists. History is never back-filled: the trend chart starts with the day the demo was loaded.
EPSS scores are stored for the stored CVEs only: all ~360,000 would take about 30 s (reading
the file takes about a second); `civicshield vulns sync` stores the whole feed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.assets.demo import load_demo_assets
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.settings import Settings
from civicshield.vulns.enums import FindingStatus
from civicshield.vulns.feeds import FeedError, load_epss
from civicshield.vulns.matching import match_inventory
from civicshield.vulns.models import Cve, Finding, RiskSnapshot
from civicshield.vulns.risk import take_snapshot
from civicshield.vulns.schemas import FindingFilter, FindingRead, StatusChange
from civicshield.vulns.service import change_status, list_findings, store_report
from civicshield.vulns.store import store_epss
from civicshield.vulns.sync import FOLDERS, sync_feeds

__all__ = ["DEMO_FEEDS", "DemoVulns", "load_demo_vulns"]

log = logging.getLogger(__name__)
DEMO_FEEDS = ("kev", "cve5", "nvd")
DEMO_ACTOR = Actor(kind="system", name="demo")
APPROVER = "raul.mendoza"  # the demo responder


@dataclass
class DemoVulns:
    """What `load_demo_vulns` did, plus notes for the person running the demo."""

    assets_created: int = 0
    cves_stored: int = 0
    findings_created: int = 0
    triaged: list[str] = field(default_factory=list)
    snapshot: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.assets_created
            or self.cves_stored
            or self.findings_created
            or self.triaged
            or self.snapshot
        )


def _feeds_folder(feeds_path: Path | None) -> Path | None:
    """The local `vuln/` folder when it holds at least one of the demo's feeds."""
    if feeds_path is None:
        return None
    folder = feeds_path / "vuln"
    wanted = [name for source in DEMO_FEEDS for name in FOLDERS[source]]
    return folder if any((folder / name).is_dir() for name in wanted) else None


def _load_feeds(session: Session, settings: Settings | None, clock: Clock, out: DemoVulns) -> bool:
    """Store the local feeds unless CVEs are already stored; False when there are none."""
    if session.scalar(select(func.count()).select_from(Cve)):
        return True
    feeds_path = settings.feeds_path if settings is not None else None
    folder = _feeds_folder(feeds_path)
    if settings is None or folder is None:
        where = f"{feeds_path}/vuln" if feeds_path else "CIVICSHIELD_FEEDS_PATH (not set)"
        note = (
            f"no vulnerability feeds under {where}: the demo has assets but no findings; "
            "run `civicshield vulns sync`"
        )
        log.warning(note)
        out.notes.append(note)
        return False
    # from_path: sources missing locally are skipped, never downloaded.
    report = sync_feeds(settings, from_path=folder, only=list(DEMO_FEEDS))
    summaries, _ = store_report(session, report, clock=clock, actor=DEMO_ACTOR)
    out.cves_stored = session.scalar(select(func.count()).select_from(Cve)) or 0
    skipped = [s.source for s in report.sources if s.status == "skipped"]
    if skipped:
        out.notes.append(f"feeds not found under {folder}: {', '.join(skipped)}")
    out.notes.append(f"loaded {out.cves_stored} CVEs from {folder}")
    out.notes.append(_load_epss(session, folder, clock))
    return bool(summaries)


def _load_epss(session: Session, folder: Path, clock: Clock) -> str:
    """The local EPSS scores of the stored CVEs (before matching, so priorities use them)."""
    epss = next((folder / n for n in FOLDERS["epss"] if (folder / n).is_dir()), None)
    if epss is None:
        return f"no EPSS scores under {folder}: findings are prioritised without them"
    try:
        feed = load_epss(epss)
    except FeedError as exc:
        log.warning("demo EPSS not loaded: %s", exc)
        return f"EPSS not loaded ({exc})"
    stored = set(session.scalars(select(Cve.cve_id)))
    wanted = replace(feed, items=[s for s in feed.items if s.cve in stored], problems=[])
    store_epss(session, wanted, clock=clock)
    return (
        f"EPSS scores of {len(wanted.items)} stored CVEs from {feed.source} "
        "(the whole feed: `civicshield vulns sync`)"
    )


def _has_findings(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Finding)))


def _pick(
    findings: list[FindingRead], prefix: str, *, kev: bool = False, possible: bool = False
) -> FindingRead | None:
    """The first finding (by asset, then CVE) on an asset named `prefix…`, whatever its status,
    so the same one is chosen on every run."""
    chosen = [
        f
        for f in findings
        if f.asset_name.startswith(prefix)
        and (f.kev or not kev)
        and (f.certainty == "possible" or not possible)
    ]
    return min(chosen, key=lambda f: (f.asset_name, f.cve_id), default=None)


def _triage(session: Session, clock: Clock, out: DemoVulns) -> None:
    findings = list_findings(session, FindingFilter(), clock=clock, limit=5000).items
    today = clock.now().date()
    plans = [
        (
            _pick(findings, "tsw-traffic-ot-"),
            StatusChange(
                status=FindingStatus.ACCEPTED,
                reason="Cabinet switch on an isolated signal VLAN with no route to the internet; "
                "firmware replacement planned with the 2027 cabinet upgrade.",
                accepted_until=today + timedelta(days=90),
                approver=APPROVER,
            ),
        ),
        (
            _pick(findings, "", possible=True),
            StatusChange(
                status=FindingStatus.FALSE_POSITIVE,
                reason="The affected feature is not enabled on this device (checked the "
                "running configuration).",
            ),
        ),
        (
            _pick(findings, "rtr-corp-it-", kev=True),
            StatusChange(
                status=FindingStatus.IN_PROGRESS,
                reason="Firmware upgrade scheduled in the next maintenance window.",
            ),
        ),
    ]
    for finding, change in plans:
        if finding is None or finding.status is not FindingStatus.OPEN:
            continue
        change_status(session, finding.id, change, actor=DEMO_ACTOR, clock=clock)
        out.triaged.append(f"{finding.asset_name} {finding.cve_id}: {change.status.value}")


def load_demo_vulns(
    session: Session, *, clock: Clock, settings: Settings | None = None
) -> DemoVulns:
    """Load the demo inventory, then its findings when feeds are available (idempotent)."""
    out = DemoVulns()
    inventory = load_demo_assets(session, clock=clock, actor=DEMO_ACTOR)
    out.assets_created = len(inventory.created)
    if not _load_feeds(session, settings, clock, out):
        return out
    if out.assets_created or out.cves_stored or not _has_findings(session):
        summary = match_inventory(session, actor=DEMO_ACTOR, clock=clock)
        out.findings_created = summary.created
    _triage(session, clock, out)
    if session.scalar(select(func.count()).select_from(RiskSnapshot)) == 0:
        tz = settings.default_timezone if settings is not None else "UTC"
        take_snapshot(session, clock=clock, tz=tz)
        out.snapshot = True
    if out.changed:
        out.notes.append(
            f"demo city: {out.assets_created} assets and {out.findings_created} findings "
            f"created, {len(out.triaged)} triaged"
        )
    return out
