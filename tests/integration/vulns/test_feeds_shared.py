"""The feed parsers on the real shared snapshots (../shared/data/vuln, read at run time)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from civicshield.vulns.feeds import load_cve5, load_epss, load_kev, load_nvd

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "vuln"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared vulnerability data not present: {path}")
    return path


def test_kev_catalog() -> None:
    catalog = load_kev(_need(SHARED / "kev" / "known_exploited_vulnerabilities.json"))
    assert (catalog.read, catalog.kept, catalog.skipped) == (1404, 1404, 0)
    assert catalog.catalog_version == "2025.08.25" and catalog.declared_count == 1404
    by_cve = catalog.by_cve()
    assert by_cve["CVE-2025-48384"].date_added == date(2025, 8, 25)
    assert by_cve["CVE-2025-48384"].cwes == ("CWE-59", "CWE-436")
    # SOURCE.md: 15 entries have dueDate before dateAdded; kept as published.
    early = [e for e in catalog.items if e.due_date and e.due_date < e.date_added]
    assert len(early) == 15
    assert {e.known_ransomware_campaign_use for e in catalog.items} == {"Known", "Unknown"}


def test_epss_crawled_csv() -> None:
    feed = load_epss(_need(SHARED / "epss" / "epss_scores_2026-08-16.csv.gz"))
    assert (feed.read, feed.kept, feed.skipped) == (360142, 360142, 0)
    scores = feed.by_cve()
    assert scores["CVE-1999-1593"].epss == pytest.approx(0.18126)
    assert scores["CVE-1999-1593"].percentile == pytest.approx(0.96946)
    high = sum(1 for s in feed.items if s.epss >= 0.1) / feed.kept
    assert 0.04 < high < 0.06  # SOURCE.md: 4.8 % have EPSS >= 0.1


def test_cve5_vulnrichment_subset() -> None:
    result = load_cve5(_need(SHARED / "cve5-vulnrichment" / "smartcity_cve5.jsonl.gz"))
    assert (result.read, result.kept, result.skipped) == (2770, 2770, 0)
    with_ssvc = [r for r in result.items if r.ssvc is not None]
    assert len(with_ssvc) == 2770
    assert {r.ssvc.exploitation for r in with_ssvc if r.ssvc} <= {"none", "poc", "active"}
    assert sum(1 for r in result.items if r.kev is not None) == 36
    rec = next(r for r in result.items if r.cve_id == "CVE-2017-2680")
    assert {c.version for c in rec.cvss} == {"3.1", "4.0"}
    assert rec.description() is not None and "PROFINET" in (rec.description() or "")
    assert all(r.applicability.cve_id == r.cve_id for r in result.items)
    with_cpes = [r for r in result.items if any(True for _ in r.applicability.criteria())]
    assert len(with_cpes) == 2096  # records whose CNA/ADP entries carry CPEs


def test_nvd_pages_and_records() -> None:
    folder = _need(SHARED / "nvd-api2")
    page = load_nvd(folder / "vunnel_full-page_api2.json")
    assert (page.read, page.kept, page.total_results) == (38, 38, 38)
    result = load_nvd(folder)
    assert (result.read, result.kept, result.skipped) == (40, 40, 0)
    mikrotik = next(r for r in result.items if r.cve_id == "CVE-2018-14847")
    assert mikrotik.kev is not None and mikrotik.kev.date_added == date(2021, 12, 1)
    assert mikrotik.cwes == ("CWE-22",)
    unitronics = next(r for r in result.items if r.cve_id == "CVE-2023-6448")
    assert len(unitronics.applicability.configurations) == 13
