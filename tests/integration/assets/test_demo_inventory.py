"""The demo city's inventory and findings: shape, idempotence, and findings from local feeds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from civicshield import assets, audit, vulns
from civicshield.assets import AssetFilter, AssetKind, Lifecycle
from civicshield.assets.demo import demo_assets
from civicshield.core import FrozenClock, Sector
from civicshield.demo import load_demo
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.vulns import FindingFilter, FindingStatus
from civicshield.vulns.demo import load_demo_vulns
from civicshield.vulns.models import Cve
from tests.conftest import SHARED_DATA, make_settings

needs_feeds = pytest.mark.skipif(
    not (SHARED_DATA / "vuln" / "cve5-vulnrichment").is_dir(),
    reason=f"no vulnerability samples under {SHARED_DATA / 'vuln'} (the shared data checkout)",
)


@pytest.fixture
def offline(tmp_path: Path, db_url: str, clock: FrozenClock) -> Any:
    """A runtime whose settings point at no feeds."""
    settings = make_settings(tmp_path / "var", database_url=db_url, feeds_path=None)
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=clock)
    yield rt
    rt.close()


def state(rt: Runtime) -> tuple[int, int, int, int]:
    """Counts that any change would move: assets, audit entries, findings, changed findings."""
    with rt.session() as session:
        findings = vulns.list_findings(session, clock=rt.clock, limit=5000).items
        return (
            assets.list_assets(session, limit=1).total,
            audit.list_entries(session, limit=1).total,
            len(findings),
            sum(f.status is not FindingStatus.OPEN for f in findings),
        )


def test_the_inventory_covers_the_city() -> None:
    items = demo_assets()
    data = [i.data for i in items]
    assert 280 <= len(data) <= 340
    assert len({d.name for d in data}) == len(data)
    assert {d.sector for d in data} == set(Sector)
    assert {d.kind for d in data} == set(AssetKind)
    assert {"traffic-iot", "water-scada", "clinic-it", "city-dmz", "public-wifi", "corp-it"} <= {
        d.zone for d in data
    }
    assert all(d.vendor and d.product and d.ips and d.macs and d.hostnames for d in data)
    assert all(d.owner and d.contact and d.latitude is not None for d in data)
    exposed = [d for d in data if d.internet_exposed]
    assert 10 <= len(exposed) <= len(data) // 4
    assert all(not ip.startswith(("10.", "172.16.")) for d in exposed for ip in d.ips[1:])
    assert 0 < sum(d.lifecycle is Lifecycle.RETIRED for d in data) < len(data) // 10
    assert any(i.software for i in items)
    assert [i.data for i in demo_assets()] == data  # deterministic


def test_every_cpe_parses() -> None:
    cpes = [i.data.cpe for i in demo_assets()] + [s.cpe for i in demo_assets() for s in i.software]
    assert all(cpes)
    parsed = [vulns.parse_cpe(c) for c in cpes if c]
    assert {p.part for p in parsed} == {"a", "o", "h"}
    # Vendor names as NVD spells them, not as marketing does.
    assert {"axis", "hikvision", "siemens", "cisco", "fortinet", "mikrotik"} <= {
        p.vendor for p in parsed
    }


def test_without_feeds_the_assets_load_and_the_note_says_what_is_missing(offline: Runtime) -> None:
    rt = offline
    with rt.session() as session:
        first = load_demo_vulns(session, clock=rt.clock, settings=rt.settings)
    assert first.assets_created == len(demo_assets())
    assert first.findings_created == 0 and not first.snapshot
    assert any("no vulnerability feeds" in n and "vulns sync" in n for n in first.notes)
    with rt.session() as session:
        assert assets.list_assets(session, AssetFilter(sector=Sector.HEALTH)).total > 10
    before = state(rt)
    with rt.session() as session:
        again = load_demo_vulns(session, clock=rt.clock, settings=rt.settings)
    assert not again.changed and again.assets_created == 0
    assert state(rt) == before


@needs_feeds
def test_with_feeds_the_demo_city_has_findings_and_loads_once(runtime: Runtime) -> None:
    rt = runtime
    first = load_demo(rt)
    assert any("demo city:" in n for n in first.notes)
    with rt.session() as session:
        findings = vulns.list_findings(session, clock=rt.clock, limit=5000).items
        kev = vulns.list_findings(session, FindingFilter(kev=True), clock=rt.clock).items
        trend = vulns.risk_trend(session, scope=None, clock=rt.clock)
    assert len(findings) > 100
    assert kev, "expected at least one finding on a CVE in CISA's KEV catalogue"
    # EPSS for the stored CVEs only (the whole feed is `vulns sync`'s), before matching
    assert any(f.epss is not None for f in findings)
    assert any("EPSS scores of" in n for n in first.notes), first.notes
    with rt.session() as session:
        scored = session.scalars(select(Cve).where(Cve.epss.is_not(None))).all()
        total = session.scalar(select(func.count()).select_from(Cve))
    assert 0 < len(scored) <= (total or 0) < 100_000
    statuses = Counter(f.status for f in findings)
    assert statuses[FindingStatus.ACCEPTED] == 1
    assert statuses[FindingStatus.FALSE_POSITIVE] == 1
    assert statuses[FindingStatus.IN_PROGRESS] == 1
    accepted = next(f for f in findings if f.status is FindingStatus.ACCEPTED)
    assert accepted.approved_by and accepted.accepted_until is not None
    assert accepted.accepted_until > rt.clock.now().date()
    assert [p.day for p in trend.series["city"]] == [rt.clock.now().date()]  # no invented history
    before = state(rt)
    again = load_demo(rt)
    assert not again.changed
    assert not any("demo city:" in n for n in again.notes), again.notes
    assert state(rt) == before
