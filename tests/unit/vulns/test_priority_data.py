"""Real records: CISA SSVC from ../shared/data/vuln/cve5-vulnrichment, KEV, EPSS and an NVD
record, assessed under the default policy. Expected decisions were worked out by hand from the
CISA coordinator table in ../shared/research/vuln-risk.md §4."""

from __future__ import annotations

import gzip
from dataclasses import asdict
from datetime import date
from functools import cache

import pytest

from civicshield.vulns.enums import Decision
from civicshield.vulns.feeds import (
    CveRecord,
    EpssScore,
    KevEntry,
    load_cve5,
    load_kev,
    load_nvd,
    parse_epss,
)
from civicshield.vulns.priority import AssetFacts, CveFacts, assess, default_policy
from tests.conftest import SHARED_DATA

VULN = SHARED_DATA / "vuln"
pytestmark = pytest.mark.skipif(
    not (VULN / "cve5-vulnrichment").is_dir(),
    reason=f"shared vulnerability samples not found at {VULN} (../shared/data/vuln)",
)


@cache
def _feeds() -> tuple[dict[str, CveRecord], dict[str, KevEntry], dict[str, EpssScore]]:
    records = {r.cve_id: r for r in load_cve5(VULN / "cve5-vulnrichment").items}
    records |= {r.cve_id: r for r in load_nvd(VULN / "nvd-api2").items}
    # Only the rows the cases use go through the parser (the full file is 360k rows).
    wanted = {c[0].encode() for c in CASES} | {b"CVE-2023-45109"}
    (path,) = (VULN / "epss").glob("*.csv*")
    rows = [
        r
        for r in gzip.decompress(path.read_bytes()).splitlines()
        if r[:20].split(b";")[0] in wanted
    ]
    epss = parse_epss(b"\n".join(rows), str(path))
    assert epss.kept == len(wanted), epss.problems
    return records, load_kev(VULN / "kev").by_cve(), epss.by_cve()


def facts(cve_id: str) -> CveFacts:
    records, kev, epss = _feeds()
    record, entry, score = records[cve_id], kev.get(cve_id), epss.get(cve_id)
    ssvc = record.ssvc
    return CveFacts(
        cve_id=cve_id,
        cvss=[asdict(m) for m in record.cvss],
        ssvc=None
        if ssvc is None
        else {
            "exploitation": ssvc.exploitation,
            "automatable": ssvc.automatable,
            "technical_impact": ssvc.technical_impact,
        },
        kev_date_added=entry.date_added if entry else None,
        kev_due_date=entry.due_date if entry else None,
        kev_ransomware=entry.ransomware if entry else False,
        epss=score.epss if score else None,
        epss_percentile=score.percentile if score else None,
    )


CASES = [
    # id, asset, first seen, decision, due date, inputs E/A/TI/MWB
    # KEV+ransomware; table active/no/partial/medium = Track, floor lifts it to Act; SLA 7 days
    # (2022-09-17) is earlier than KEV's 2022-09-29.
    ("CVE-2018-13374", AssetFacts(criticality=3), date(2022, 9, 10), Decision.ACT,
     date(2022, 9, 17), "active/no/partial/medium"),
    # KEV (no ransomware) active/no/total: high MWB -> Act; KEV due 2024-06-06 < SLA 2024-06-08.
    ("CVE-2014-100005", AssetFacts(criticality=5), date(2024, 6, 1), Decision.ACT,
     date(2024, 6, 6), "active/no/total/high"),
    # Same CVE on a low asset: Track, lifted to Attend by the KEV floor; KEV due date wins.
    ("CVE-2014-100005", AssetFacts(criticality=2), date(2024, 6, 1), Decision.ATTEND,
     date(2024, 6, 6), "active/no/total/low"),
    # No KEV, CISA none/no/partial: Track even for a vital exposed asset; 180 days.
    ("CVE-2017-2680", AssetFacts(criticality=5, internet_exposed=True), date(2024, 1, 1),
     Decision.TRACK, date(2024, 6, 29), "none/no/partial/high"),
    # none/yes/partial: Attend at high MWB (criticality 3 raised by exposure), Track at medium.
    ("CVE-2019-10936", AssetFacts(criticality=3, internet_exposed=True), date(2024, 1, 1),
     Decision.ATTEND, date(2024, 1, 31), "none/yes/partial/high"),
    ("CVE-2019-10936", AssetFacts(criticality=3), date(2024, 1, 1), Decision.TRACK,
     date(2024, 6, 29), "none/yes/partial/medium"),
    # poc/yes/total (no CVSS published): medium -> Track*, 90 days.
    ("CVE-2020-19319", AssetFacts(criticality=3), date(2024, 1, 1), Decision.TRACK_STAR,
     date(2024, 3, 31), "poc/yes/total/medium"),
    # active/yes/total in KEV: criticality 1 in the water sector is floored to medium -> Act.
    ("CVE-2020-15415", AssetFacts(criticality=1, sector="water"), date(2024, 10, 1),
     Decision.ACT, date(2024, 10, 8), "active/yes/total/medium"),
    # NVD record without CISA SSVC: E active (KEV), A yes and TI partial from the v3.0 vector
    # AV:N/AC:L/PR:N/UI:N/C:H/I:H/A:N; medium -> Attend; KEV due 2022-06-01 < SLA 2022-06-19.
    ("CVE-2018-14847", AssetFacts(criticality=3), date(2022, 5, 20), Decision.ATTEND,
     date(2022, 6, 1), "active/yes/partial/medium"),
]  # fmt: skip


@pytest.mark.parametrize(("cve_id", "asset", "seen", "decision", "due", "leaf"), CASES)
def test_real_records(
    cve_id: str, asset: AssetFacts, seen: date, decision: Decision, due: date, leaf: str
) -> None:
    result = assess(facts(cve_id), asset, default_policy(), first_seen=seen)
    inputs = result.inputs
    got = "/".join(
        inputs[k] for k in ("exploitation", "automatable", "technical_impact", "mission_wellbeing")
    )
    assert (got, result.decision, result.due_date) == (leaf, decision, due), result.explanation


def test_real_kev_explanation_names_dates_and_ransomware() -> None:
    result = assess(
        facts("CVE-2018-13374"),
        AssetFacts(criticality=3),
        default_policy(),
        first_seen=date(2022, 9, 10),
    )
    assert result.explanation[0] == (
        "Exploitation: active — in CISA KEV since 2022-09-08 (due 2022-09-29), "
        "known ransomware use."
    )
    assert "Raised from Track to Act: it is in CISA KEV with known ransomware use." in (
        result.explanation
    )
    assert result.cvss_score == 4.3 and result.inputs["cvss_source"] == "CNA (fortinet)"


def test_real_record_with_v31_and_v40_counts_v40_by_default() -> None:
    result = assess(
        facts("CVE-2017-2680"), AssetFacts(), default_policy(), first_seen=date(2024, 1, 1)
    )
    assert (result.cvss_version, result.cvss_score) == ("4.0", 7.1)
    assert result.cvss_vector.startswith("CVSS:4.0/AV:A")


def test_real_nvd_disagreement_is_explained() -> None:
    # NVD 8.8 vs Patchstack 5.4 on CVE-2023-45109 (NVD API page sample).
    result = assess(
        facts("CVE-2023-45109"), AssetFacts(), default_policy(), first_seen=date(2024, 1, 1)
    )
    assert result.cvss_score == 8.8
    assert any(
        line.startswith(
            "Sources disagree: NVD gives 8.8 (v3.1); CNA (audit@patchstack.com) gives 5.4"
        )
        for line in result.explanation
    )
