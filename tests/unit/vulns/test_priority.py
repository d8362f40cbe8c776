"""`assess` and the policy: each SSVC input's derivation, floors, SLA, priority, explanation."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from civicshield.core.enums import Severity
from civicshield.vulns.enums import Decision
from civicshield.vulns.priority import (
    AssetFacts,
    CveFacts,
    Policy,
    assess,
    default_policy,
    priority_key,
)

V31_RCE = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V31_LOCAL = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N"
V40_NET = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
SEEN = date(2024, 5, 2)
POLICY = default_policy()


def metric(vector: str, score: float | None = None, source: str = "nvd@nist.gov") -> dict[str, Any]:
    version = vector[5:8] if vector.startswith("CVSS:") else "2.0"
    kind = "primary" if source == "nvd@nist.gov" else "cna"
    return {
        "version": version,
        "vector": vector,
        "base_score": score,
        "base_severity": None,
        "source": source,
        "kind": kind,
    }


def cve(**kw: Any) -> CveFacts:
    return CveFacts(cve_id="CVE-2024-0001", **kw)


def test_kev_cve_on_a_vital_exposed_asset_is_act_with_the_kev_due_date() -> None:
    facts = cve(
        cvss=[metric(V31_RCE, 9.8)],
        kev_date_added=SEEN,
        kev_due_date=date(2024, 5, 23),
        epss=0.9,
        epss_percentile=0.99,
    )
    result = assess(
        facts, AssetFacts(criticality=5, internet_exposed=True), POLICY, first_seen=SEEN
    )
    assert result.decision is Decision.ACT
    # 7-day SLA would be 2024-05-09, earlier than KEV's date: the SLA wins.
    assert result.due_date == date(2024, 5, 9)
    assert (
        result.explanation[0]
        == "Exploitation: active — in CISA KEV since 2024-05-02 (due 2024-05-23)."
    )
    assert "Mission & well-being: high — asset criticality 5 (Vital), exposed to the internet." in (
        result.explanation
    )
    assert (
        "Decision: Act (SSVC CISA coordinator table 2.0.3, E=active A=yes TI=total MWB=high)."
        in result.explanation
    )
    assert result.explanation[-1] == "Due 2024-05-09: 7-day SLA for Act from first seen 2024-05-02."
    assert (result.severity, result.cvss_score, result.cvss_version) == (
        Severity.CRITICAL,
        9.8,
        "3.1",
    )


def test_kev_due_date_wins_when_earlier_than_the_sla() -> None:
    facts = cve(cvss=[metric(V31_LOCAL, 3.3)], kev_date_added=SEEN, kev_due_date=date(2024, 5, 23))
    result = assess(facts, AssetFacts(criticality=2), POLICY, first_seen=SEEN)
    # active/no/partial/low is Track; the KEV floor lifts it to Attend (30 days: 2024-06-01).
    assert result.decision is Decision.ATTEND
    assert result.inputs["table_decision"] == "track"
    assert "Raised from Track to Attend: it is in CISA KEV." in result.explanation
    assert result.due_date == date(2024, 5, 23)
    assert result.explanation[-1] == "Due 2024-05-23: KEV due date (earlier than the 30-day SLA)."
    off = Policy.model_validate({"sla": {"kev_due_date_first": False}})
    assert assess(facts, AssetFacts(criticality=2), off, first_seen=SEEN).due_date == date(
        2024, 6, 1
    )


def test_kev_with_ransomware_is_act_and_floors_are_configurable() -> None:
    facts = cve(cvss=[metric(V31_LOCAL, 3.3)], kev_date_added=SEEN, kev_ransomware=True)
    assert (
        assess(facts, AssetFacts(criticality=1), POLICY, first_seen=SEEN).decision is Decision.ACT
    )
    no_floors = Policy.model_validate({"floors": {"kev": None, "kev_ransomware": None}})
    plain = assess(facts, AssetFacts(criticality=1), no_floors, first_seen=SEEN)
    assert plain.decision is Decision.TRACK


def test_cisa_values_are_used_and_normalised_when_not_in_kev() -> None:
    ssvc = {"exploitation": "PoC", "automatable": "No", "technical_impact": "Total"}
    facts = cve(cvss=[metric(V31_RCE, 9.8)], ssvc=ssvc, epss=0.001)
    result = assess(facts, AssetFacts(criticality=3), POLICY, first_seen=SEEN)
    # poc/no/total/medium -> Track*; CISA's "no" overrides what the vector would say.
    assert result.decision is Decision.TRACK_STAR
    assert result.inputs["automatable"] == "no"
    assert "Exploitation: poc — CISA SSVC (vulnrichment)." in result.explanation
    assert result.due_date == date(2024, 7, 31)  # 90 days


@pytest.mark.parametrize(
    ("epss", "percentile", "policy", "expected"),
    [
        (0.1, 0.95, {}, "poc"),  # at the threshold
        (0.09, 0.95, {}, "none"),
        (0.09, 0.95, {"exploitation": {"epss_percentile_poc_threshold": 0.9}}, "poc"),
        (0.5, 0.99, {"exploitation": {"epss_poc_threshold": None}}, "none"),
        (None, None, {}, "none"),
    ],
)
def test_exploitation_from_epss(
    epss: float | None, percentile: float | None, policy: dict[str, Any], expected: str
) -> None:
    facts = cve(cvss=[metric(V31_RCE, 9.8)], epss=epss, epss_percentile=percentile)
    result = assess(facts, AssetFacts(), Policy.model_validate(policy), first_seen=SEEN)
    assert result.inputs["exploitation"] == expected


@pytest.mark.parametrize(
    ("vector", "automatable", "impact"),
    [
        (V31_RCE, "yes", "total"),
        (V31_LOCAL, "no", "partial"),
        (V40_NET, "yes", "total"),
        ("CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:H/VI:H/VA:L/SC:N/SI:N/SA:N", "no", "partial"),
        ("AV:N/AC:L/Au:N/C:C/I:C/A:C", "yes", "total"),
    ],
)
def test_automatable_and_technical_impact_from_the_vector(
    vector: str, automatable: str, impact: str
) -> None:
    result = assess(cve(cvss=[metric(vector)]), AssetFacts(), POLICY, first_seen=SEEN)
    assert (result.inputs["automatable"], result.inputs["technical_impact"]) == (
        automatable,
        impact,
    )
    assert f"Automatable: {automatable} — from the CVSS vector {vector}; no CISA value." in (
        result.explanation
    )


def test_inference_from_cvss_can_be_switched_off() -> None:
    policy = Policy.model_validate({"automatable": {"from_cvss": False}})
    result = assess(cve(cvss=[metric(V31_RCE)]), AssetFacts(), policy, first_seen=SEEN)
    assert result.inputs["automatable"] == "no"


@pytest.mark.parametrize(
    ("asset", "expected"),
    [
        (AssetFacts(criticality=1), "low"),
        (AssetFacts(criticality=2, internet_exposed=True), "medium"),
        (AssetFacts(criticality=3), "medium"),
        (AssetFacts(criticality=4), "high"),
        (AssetFacts(criticality=5, internet_exposed=True), "high"),  # no step above high
        (AssetFacts(criticality=1, sector="water"), "medium"),
        (AssetFacts(criticality=1, sector="health", internet_exposed=True), "medium"),
        (AssetFacts(criticality=1, sector="transport"), "low"),
    ],
)
def test_mission_wellbeing_from_the_asset(asset: AssetFacts, expected: str) -> None:
    result = assess(cve(cvss=[metric(V31_LOCAL)]), asset, POLICY, first_seen=SEEN)
    assert result.inputs["mission_wellbeing"] == expected


def test_mission_rules_are_editable() -> None:
    policy = Policy.model_validate(
        {"mission": {"raise_if_internet_exposed": False, "sector_floor": {"energy": "high"}}}
    )
    asset = AssetFacts(criticality=1, internet_exposed=True, sector="energy")
    result = assess(cve(cvss=[metric(V31_LOCAL)]), asset, policy, first_seen=SEEN)
    assert result.inputs["mission_wellbeing"] == "high"
    assert "at least high for the energy sector" in result.explanation[3]
    water = AssetFacts(criticality=1, sector="water")
    assert assess(cve(), water, policy, first_seen=SEEN).inputs["mission_wellbeing"] == "low"


def test_scanner_only_cve_is_assessed_from_the_scanner_and_says_what_is_missing() -> None:
    facts = CveFacts(cve_id="CVE-2099-1", in_store=False, scanner_cvss=(V31_RCE, None))
    result = assess(facts, AssetFacts(criticality=4), POLICY, first_seen=SEEN)
    assert result.explanation[0].startswith("CVE-2099-1 is not in the vulnerability store")
    # none/yes/total/high -> Attend, from the scanner's vector; score computed from it.
    assert result.decision is Decision.ATTEND and result.cvss_score == 9.8
    assert "CVSS: 9.8 critical (v3.1, the scanner, computed from the vector)." in result.explanation


def test_scanner_severity_alone_still_gives_a_severity() -> None:
    facts = CveFacts(cve_id="CVE-2099-2", in_store=False, scanner_severity="High")
    result = assess(facts, AssetFacts(), POLICY, first_seen=SEEN)
    assert result.severity is Severity.HIGH and result.cvss_score is None
    assert result.decision is Decision.TRACK and result.due_date == date(2024, 10, 29)
    assert "CVSS: none published for this CVE." in result.explanation
    assert "Severity: high, as the scanner rated it." in result.explanation


def test_scanner_score_without_vector() -> None:
    facts = CveFacts(cve_id="CVE-2099-3", in_store=False, scanner_cvss=(None, 5.0))
    result = assess(facts, AssetFacts(), POLICY, first_seen=SEEN)
    assert (result.severity, result.cvss_score, result.cvss_version) == (Severity.MEDIUM, 5.0, None)
    assert result.inputs["automatable"] == "no"


def _key(
    decision: Decision,
    *,
    kev: bool = False,
    epss: float | None = 0.5,
    cvss: float | None = 7.0,
    crit: int = 3,
) -> int:
    return priority_key(decision, kev, epss, cvss, crit)


def test_priority_orders_decision_then_kev_then_epss_then_cvss_then_criticality() -> None:
    ordered = [
        _key(Decision.ACT, kev=True),
        _key(Decision.ACT, crit=5),
        _key(Decision.ATTEND, kev=True, epss=0.0),
        _key(Decision.ATTEND, epss=0.9, cvss=1.0),
        _key(Decision.ATTEND, epss=0.2, cvss=10.0),
        _key(Decision.ATTEND, epss=0.2, cvss=9.0, crit=5),
        _key(Decision.ATTEND, epss=0.2, cvss=9.0, crit=1),
        _key(Decision.TRACK_STAR, kev=True, epss=1.0, cvss=10.0, crit=5),
        _key(Decision.TRACK, epss=None, cvss=None, crit=1),
    ]
    assert ordered == sorted(ordered) and len(set(ordered)) == len(ordered)
    assert priority_key(Decision.ACT, True, 1.0, 10.0, 5) == 0
    assert priority_key(Decision.TRACK, False, None, None, 1) == 311_001_004 < 2**31


def test_policy_errors_name_the_field_path() -> None:
    with pytest.raises(ValidationError) as info:
        Policy.model_validate(
            {
                "sla": {"days": {"act": 7}},
                "exploitation": {"epss_poc_threshold": 1.5},
                "mission": {"by_criticality": {"1": "low"}},
                "cvss": {"versions": ["9.9"]},
                "unknown": 1,
            }
        )
    locs = {".".join(str(p) for p in e["loc"]) for e in info.value.errors()}
    assert locs == {
        "sla.days",
        "exploitation.epss_poc_threshold",
        "mission.by_criticality",
        "cvss.versions.0",
        "unknown",
    }
    assert "missing: track, track_star, attend" in str(info.value)


def test_policy_round_trips_through_json_and_has_a_schema() -> None:
    data = default_policy().model_dump(mode="json")
    assert data["sla"]["days"] == {"act": 7, "attend": 30, "track_star": 90, "track": 180}
    assert data["mission"]["by_criticality"] == {
        "1": "low",
        "2": "low",
        "3": "medium",
        "4": "high",
        "5": "high",
    }
    assert Policy.model_validate(data) == default_policy()
    schema = Policy.model_json_schema()
    assert set(schema["properties"]) == {
        "exploitation",
        "automatable",
        "technical_impact",
        "mission",
        "floors",
        "sla",
        "cvss",
    }


def test_asset_criticality_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="criticality 6"):
        AssetFacts(criticality=6)


def test_sla_days_are_editable() -> None:
    policy = Policy.model_validate(
        {"sla": {"days": {"act": 1, "attend": 2, "track_star": 3, "track": 4}}}
    )
    result = assess(cve(), AssetFacts(), policy, first_seen=SEEN)
    assert result.decision is Decision.TRACK and result.due_date == date(2024, 5, 6)
