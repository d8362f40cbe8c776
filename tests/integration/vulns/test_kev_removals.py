"""CISA removes KEV entries now and then: a complete catalogue that no longer lists a CVE clears
its KEV facts (and the findings it drove are re-assessed); a partial file removes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicshield import vulns
from civicshield.core import SYSTEM
from civicshield.runtime import Runtime
from civicshield.vulns.feeds import parse_kev
from civicshield.vulns.store import StoreSummary, is_complete
from civicshield.vulns.sync import sync_feeds
from tests.integration.vulns.test_findings import ROUTEROS, VULN, findings, load_feeds, make

KEV_FILE = VULN / "kev" / "known_exploited_vulnerabilities.json"
GONE = "CVE-2018-14847"

pytestmark = pytest.mark.skipif(
    not KEV_FILE.is_file(), reason=f"needs the shared KEV catalogue at {KEV_FILE}"
)


def catalogue(tmp_path: Path, *, drop: str | None = None, keep_count: bool = False) -> Path:
    """The shared catalogue without `drop`; `keep_count` leaves the old `count` (partial)."""
    doc = json.loads(KEV_FILE.read_bytes())
    kept = [v for v in doc["vulnerabilities"] if v["cveID"] != drop]
    assert drop is None or len(kept) == len(doc["vulnerabilities"]) - 1
    doc["vulnerabilities"] = kept
    if not keep_count:
        doc["count"] = len(kept)
    path = tmp_path / "kev" / "known_exploited_vulnerabilities.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


def store_kev_file(rt: Runtime, path: Path) -> StoreSummary:
    report = sync_feeds(rt.settings, from_path=path, only=["kev"])
    with rt.session() as session:
        (summary,), _ = vulns.store_report(session, report, clock=rt.clock)
    return summary


def test_a_removed_entry_clears_kev_and_the_finding_it_drove(
    runtime_any: Runtime, tmp_path: Path
) -> None:
    rt = runtime_any
    load_feeds(rt)  # NVD (which also carries cisaExploitAdd) and the full catalogue
    make(rt, cpe=ROUTEROS.format("6.42"), criticality=4, internet_exposed=True)
    with rt.session() as session:
        vulns.match_inventory(session, actor=SYSTEM, clock=rt.clock)
    (before,) = findings(rt, cve_id=GONE)
    assert before.kev

    # A partial file (its count says more entries than it holds) removes nothing.
    partial = store_kev_file(rt, catalogue(tmp_path, drop=GONE, keep_count=True))
    assert partial.removed == 0
    assert findings(rt, cve_id=GONE)[0].kev

    summary = store_kev_file(rt, catalogue(tmp_path, drop=GONE))
    assert summary.removed == 1 and summary.to_dict()["removed"] == 1
    (after,) = findings(rt, cve_id=GONE)
    assert not after.kev
    assert not any("CISA KEV" in line for line in after.explanation)
    with rt.session() as session:
        cve = vulns.get_cve(session, GONE)
    assert cve.kev_date_added is None and cve.kev_due_date is None
    assert cve.kev_removed == rt.clock.now().date()

    # NVD's copy of the KEV dates does not bring the entry back.
    nvd = sync_feeds(rt.settings, from_path=VULN, only=["nvd"])
    with rt.session() as session:
        vulns.store_report(session, nvd, clock=rt.clock)
        assert vulns.get_cve(session, GONE).kev_date_added is None

    # Listed again by CISA: back in KEV, the removal forgotten.
    again = store_kev_file(rt, KEV_FILE)
    assert again.updated >= 1 and again.removed == 0
    with rt.session() as session:
        cve = vulns.get_cve(session, GONE)
    assert cve.kev_date_added is not None and cve.kev_removed is None
    assert findings(rt, cve_id=GONE)[0].kev


def test_completeness_needs_every_entry_parsed_and_the_declared_count(tmp_path: Path) -> None:
    full = parse_kev(catalogue(tmp_path).read_bytes(), "full")
    assert is_complete(full)
    partial = parse_kev(catalogue(tmp_path, drop=GONE, keep_count=True).read_bytes(), "partial")
    assert not is_complete(partial)
    doc = json.loads(KEV_FILE.read_bytes())
    doc["vulnerabilities"][0]["dateAdded"] = "not a date"
    broken = parse_kev(json.dumps(doc).encode(), "broken")
    assert broken.problems and not is_complete(broken)
    del doc["count"]
    doc["vulnerabilities"][0]["dateAdded"] = "2021-11-03"
    assert not is_complete(parse_kev(json.dumps(doc).encode(), "uncounted"))
