"""Findings end to end on a real database: store feeds, match, life cycle, triage, scanners."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civicshield import assets, vulns
from civicshield.assets import AssetCreate, AssetUpdate, SoftwareItem, upsert_software
from civicshield.core import SYSTEM, FrozenClock, Sector
from civicshield.core.errors import Invalid, NotFound
from civicshield.runtime import Runtime
from civicshield.vulns.feeds import parse_cve5_record, parse_epss
from civicshield.vulns.models import FindingChange
from civicshield.vulns.store import store_epss, store_records
from civicshield.vulns.sync import sync_feeds
from tests.conftest import SHARED_DATA

VULN = SHARED_DATA / "vuln"
SAMPLES = VULN / "scanner-samples"
ROUTEROS = "cpe:2.3:o:mikrotik:routeros:{}:*:*:*:*:*:*:*"

pytestmark = pytest.mark.skipif(
    not VULN.is_dir(), reason=f"needs the shared vulnerability data at {VULN}"
)


def load_feeds(rt: Runtime) -> None:
    report = sync_feeds(rt.settings, from_path=VULN, only=["nvd", "kev"])
    with rt.session() as session:
        vulns.store_report(session, report, clock=rt.clock)


def make(rt: Runtime, **kw: object) -> assets.AssetRead:
    values: dict[str, object] = {"name": "router-1", "sector": "transport", "kind": "iot"}
    values.update(kw)
    with rt.session() as session:
        return assets.create_asset(
            session, AssetCreate.model_validate(values), actor=SYSTEM, clock=rt.clock
        )


def findings(rt: Runtime, **kw: object) -> list[vulns.FindingRead]:
    with rt.session() as session:
        page = vulns.list_findings(
            session, vulns.FindingFilter.model_validate(kw), clock=rt.clock, limit=200
        )
    return page.items


def history_rows(rt: Runtime) -> int:
    with rt.session() as session:
        return session.execute(select(func.count(FindingChange.id))).scalar_one()


def test_storing_the_same_feeds_twice_changes_nothing(runtime_any: Runtime) -> None:
    rt = runtime_any
    report = sync_feeds(rt.settings, from_path=VULN, only=["nvd", "kev", "cve5"])
    with rt.session() as session:
        first, _ = vulns.store_report(session, report, clock=rt.clock)
    with rt.session() as session:
        second, _ = vulns.store_report(session, report, clock=rt.clock)
        cve = vulns.get_cve(session, "CVE-2018-14847")
    assert sum(s.created for s in first) > 3000
    assert all(s.created == 0 and s.updated == 0 for s in second)
    # NVD, KEV and the CISA ADP container all speak of the MikroTik CVE; each part is kept.
    assert cve.kev_date_added == date(2021, 12, 1)
    assert "nvd" in cve.sources
    assert any(m["origin"] == "nvd" for m in cve.cvss)


def test_epss_rows_update_in_place(runtime: Runtime) -> None:
    rt = runtime
    feed = parse_epss(b"CVE-2018-14847;0.5;0.9\nCVE-2099-0001;0.01;0.2\n", "epss.csv")
    with rt.session() as session:
        created = store_epss(session, feed, clock=rt.clock)
    feed = parse_epss(b"CVE-2018-14847;0.6;0.95\nCVE-2099-0001;0.01;0.2\n", "epss.csv")
    with rt.session() as session:
        again = store_epss(session, feed, clock=rt.clock)
        cve = vulns.get_cve(session, "CVE-2018-14847")
    assert (created.created, again.updated, again.unchanged) == (2, 1, 1)
    assert (cve.epss, cve.epss_percentile) == (0.6, 0.95)


def test_match_explains_prioritises_fixes_and_reopens(runtime_any: Runtime) -> None:
    rt = runtime_any
    load_feeds(rt)
    asset = make(rt, cpe=ROUTEROS.format("6.42"), criticality=4, internet_exposed=True)
    with rt.session() as session:
        summary = vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    assert summary.created >= 1
    (found,) = [f for f in findings(rt) if f.cve_id == "CVE-2018-14847"]
    assert found.kev and found.decision is vulns.Decision.ACT
    assert found.due_date == date(2022, 6, 1) and found.overdue
    assert any("CISA KEV" in line for line in found.explanation)
    with rt.session() as session:
        detail = vulns.get_finding(session, found.id, clock=rt.clock)
    assert "<= 6.42" in detail.evidence["matcher"]["criterion"]

    # The router is patched past the range: the matcher's finding is fixed, with the reason.
    with rt.session() as session:
        assets.update_asset(
            session,
            asset.id,
            AssetUpdate(cpe=ROUTEROS.format("6.43")),
            actor=SYSTEM,
            clock=rt.clock,
        )
        summary = vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    assert summary.fixed >= 1
    (fixed,) = findings(rt, cve_id="CVE-2018-14847")
    assert fixed.status is vulns.FindingStatus.FIXED
    assert "no longer matches" in fixed.status_reason

    # Rolled back to the vulnerable version: the same finding re-opens (no duplicate).
    with rt.session() as session:
        assets.update_asset(
            session, asset.id, AssetUpdate(cpe=ROUTEROS.format("6.42")), actor=SYSTEM,
            clock=rt.clock,
        )  # fmt: skip
        summary = vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    (again,) = findings(rt, cve_id="CVE-2018-14847")
    assert again.id == found.id and again.status is vulns.FindingStatus.OPEN
    assert again.reopened == 1 and summary.reopened >= 1

    # A second run with nothing changed writes nothing.
    before = history_rows(rt)
    with rt.session() as session:
        summary = vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    assert (summary.created, summary.fixed, summary.reopened) == (0, 0, 0)
    assert history_rows(rt) == before


def test_running_on_platform_is_never_a_finding(runtime: Runtime) -> None:
    rt = runtime
    load_feeds(rt)
    # The hardware a vulnerable firmware runs on is "vulnerable: false" in NVD configurations.
    make(rt, cpe="cpe:2.3:h:unitronics:vision1210:-:*:*:*:*:*:*:*", kind="ot")
    with rt.session() as session:
        summary = vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    assert summary.created == 0


def test_status_rules_history_and_expiry(runtime: Runtime, clock: FrozenClock) -> None:
    rt = runtime
    load_feeds(rt)
    make(rt, cpe=ROUTEROS.format("6.42"))
    with rt.session() as session:
        vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    (f,) = findings(rt, cve_id="CVE-2018-14847")
    today = clock.now().date()

    def change(**kw: object) -> vulns.FindingDetail:
        with rt.session() as session:
            return vulns.change_status(
                session, f.id, vulns.StatusChange.model_validate(kw), actor=SYSTEM, clock=clock
            )

    with pytest.raises(Invalid, match="expiry"):
        change(status="accepted", reason="ACL in place")
    with pytest.raises(Invalid, match="after today"):
        change(status="accepted", reason="ACL in place", accepted_until=today)
    with pytest.raises(Invalid, match="false positive"):
        change(status="false_positive")
    with pytest.raises(Invalid, match="longer than 2,000"):
        change(status="false_positive", reason="x" * 2001)
    detail = change(
        status="accepted",
        reason="ACL in place",
        accepted_until=today + timedelta(days=30),
        approver="CISO Ana",
    )
    assert detail.status is vulns.FindingStatus.ACCEPTED and detail.approved_by == "CISO Ana"
    assert not detail.overdue  # an accepted risk is not overdue while the acceptance lasts
    assert {h.field for h in detail.history} >= {"status", "accepted_until", "approved_by"}

    clock.advance(timedelta(days=31))
    with rt.session() as session:
        assert vulns.reassess(session, clock=clock) == 0
    (expired,) = findings(rt, cve_id="CVE-2018-14847")
    assert expired.status is vulns.FindingStatus.OPEN
    assert "expired" in expired.status_reason


def test_sector_operator_sees_only_own_findings(runtime: Runtime) -> None:
    rt = runtime
    load_feeds(rt)
    make(rt, name="r-water", sector="water", cpe=ROUTEROS.format("6.40"), ips=["10.0.0.9"])
    make(rt, name="r-transport", cpe=ROUTEROS.format("6.41"), ips=["10.0.0.8"])
    with rt.session() as session:
        vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    other = next(f for f in findings(rt) if f.sector == "transport")
    with rt.session() as session:
        page = vulns.list_findings(session, clock=rt.clock, scope={Sector.WATER})
        assert page.items and {f.sector for f in page.items} == {"water"}
        with pytest.raises(NotFound):
            vulns.get_finding(session, other.id, clock=rt.clock, scope={Sector.WATER})


HOST_SAMPLES = [
    "openvas/defectdojo_one_vuln.xml",
    "openvas/defectdojo_many_vuln.xml",
    "openvas/defectdojo_report_using_CVE.csv",
    "wazuh/defectdojo_v4-7_one_finding_with_endpoint.json",
    "wazuh/defectdojo_v4-8_many_findings.json",
    "nmap/defectdojo_nmap_script_vulners.xml",
]
IMAGE_SAMPLES = [
    "grype/defectdojo_check_all_fields.json",
    "grype/defectdojo_many_vulns_with_epss_values.json",
    "grype/defectdojo_same_cve_different_paths.json",
    "trivy/defectdojo_all_statuses.json",
    "trivy/defectdojo_cvssv4_severity_source.json",
    "trivy/defectdojo_scheme_2_many_vulns.json",
]


def _import(rt: Runtime, path: Path, asset_id: int | None = None) -> vulns.ScanImportSummary:
    report = vulns.parse_scan(path.read_bytes(), source=path.name)
    with rt.session() as session:
        return vulns.import_scan(
            session, report, actor=SYSTEM, clock=rt.clock, target_asset_id=asset_id
        )


@pytest.mark.parametrize("name", HOST_SAMPLES)
def test_host_scans_merge_by_asset_and_reimport_changes_nothing(
    runtime: Runtime, name: str
) -> None:
    rt = runtime
    path = SAMPLES / name
    report = vulns.parse_scan(path.read_bytes(), source=path.name)
    hosts = {f.host for f in report.findings if f.host}
    for i, host in enumerate(sorted(hosts, key=repr)):
        make(
            rt,
            name=f"host-{i}",
            ips=list(host.ips),
            hostnames=list(host.hostnames) or [f"host-{i}"],
        )
    first = _import(rt, path)
    assert first.created > 0 and not [p for p in first.problems if "no asset" in p["message"]]
    assert first.created <= len(report.findings)
    before = history_rows(rt)
    second = _import(rt, path)
    assert (second.created, second.updated) == (0, 0)
    assert second.unchanged == first.created
    assert history_rows(rt) == before
    sources = {s for f in findings(rt) for s in f.sources}
    assert sources == {report.tool}


@pytest.mark.parametrize("name", IMAGE_SAMPLES)
def test_image_scans_need_an_asset_then_merge(runtime: Runtime, name: str) -> None:
    rt = runtime
    path = SAMPLES / name
    unplaced = _import(rt, path)
    assert unplaced.created == 0
    assert unplaced.problems and "choose the asset" in unplaced.problems[-1]["message"]
    asset = make(rt, name="app-server", kind="it", ips=["10.1.1.1"])
    first = _import(rt, path, asset.id)
    assert first.created > 0
    second = _import(rt, path, asset.id)
    assert (second.created, second.updated) == (0, 0)
    ids = [f.cve_id for f in findings(rt)]
    assert len(ids) == first.created


def test_vex_not_affected_marks_false_positive_with_justification(runtime: Runtime) -> None:
    rt = runtime
    path = SAMPLES / "cyclonedx/bomexamples_VEX_CISA_Case-2.json"
    report = vulns.parse_scan(path.read_bytes(), source=path.name)
    statement = next(v for v in report.vex if v.state == "not_affected")
    asset = make(rt, name="abc-product", kind="it", ips=["10.1.1.2"])
    first = _import(rt, path, asset.id)
    assert first.false_positive >= 1
    (f,) = findings(rt, cve_id=statement.vuln_id, status=["false_positive"])[:1]
    assert f.status is vulns.FindingStatus.FALSE_POSITIVE
    assert statement.justification and statement.justification in f.status_reason
    before = history_rows(rt)
    second = _import(rt, path, asset.id)
    assert (second.created, second.false_positive) == (0, 0)
    assert history_rows(rt) == before


def test_a_finding_a_scanner_stops_reporting_is_fixed(runtime: Runtime) -> None:
    rt = runtime
    path = SAMPLES / "grype/defectdojo_check_all_fields.json"
    asset = make(rt, name="app", kind="it", ips=["10.1.1.3"])
    _import(rt, path, asset.id)
    smaller = SAMPLES / "grype/defectdojo_same_cve_different_paths.json"
    _import(rt, smaller, asset.id)
    statuses = {f.cve_id: f.status for f in findings(rt, open_only=False)}
    first = vulns.parse_scan(path.read_bytes(), source=path.name)
    gone = {f.vuln_id for f in first.findings} - {
        f.vuln_id for f in vulns.parse_scan(smaller.read_bytes(), source="x").findings
    }
    assert gone and all(statuses[c] is vulns.FindingStatus.FIXED for c in gone)


def test_software_purls_match_cve5_packages(runtime: Runtime) -> None:
    rt = runtime
    raw = {
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {"cveId": "CVE-2099-1234", "state": "PUBLISHED"},
        "containers": {
            "cna": {
                "descriptions": [{"lang": "en", "value": "A constructed package record."}],
                "affected": [
                    {
                        "collectionURL": "https://repo.maven.apache.org/maven2",
                        "packageName": "org.apache.logging.log4j:log4j-core",
                        "versions": [
                            {"version": "2.0", "lessThan": "2.15.0", "status": "affected"}
                        ],
                    }
                ],
            }
        },
    }
    rec = parse_cve5_record(raw)
    with rt.session() as session:
        store_records(session, [rec], clock=rt.clock, source="cve5")
    asset = make(rt, name="gis-server", kind="it", ips=["10.2.0.1"])
    item = SoftwareItem(
        name="log4j-core",
        version="2.14.1",
        purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
    )
    with rt.session() as session:
        upsert_software(session, asset.id, [item], source="test", actor=SYSTEM, clock=rt.clock)
        vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    (f,) = findings(rt, cve_id="CVE-2099-1234")
    assert f.component == item.purl and f.certainty == "affected"
    with rt.session() as session:
        detail = vulns.get_finding(session, f.id, clock=rt.clock)
    assert "pkg:maven/org.apache.logging.log4j/log4j-core" in detail.evidence["matcher"]["why"]


def test_vendor_aliases_and_cisa_adp_ranges_match(runtime: Runtime) -> None:
    rt = runtime
    report = sync_feeds(rt.settings, from_path=VULN, only=["cve5", "kev"])
    with rt.session() as session:
        vulns.store_report(session, report, clock=rt.clock)
    # CISA ADP spells D-Link "dlink"; the city's inventory says "d-link".
    make(rt, name="ap-1", cpe="cpe:2.3:o:d-link:dap_2622_firmware:1.00:*:*:*:*:*:*:*")
    # ADP writes "fortios:7.4.0" with "7.4.0 <7.4.3": 7.4.1 is inside the range (KEV).
    make(rt, name="fw-1", cpe="cpe:2.3:o:fortinet:fortios:7.4.1:*:*:*:*:*:*:*", ips=["10.9.9.9"])
    with rt.session() as session:
        vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    names = {(f.asset_name, f.cve_id) for f in findings(rt)}
    assert any(name == "ap-1" for name, _ in names)
    assert ("fw-1", "CVE-2024-21762") in names
