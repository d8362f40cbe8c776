"""Prioritise one finding (one CVE on one asset): SSVC decision, due date, sort priority and a
written explanation. Pure functions over plain facts; the service reads the rows and stores the
`Assessment` on the finding. Rules and defaults: docs/vulns-priority.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from civicshield.assets import criticality_label
from civicshield.core.enums import Severity
from civicshield.vulns._cvss import CvssPick, CvssResult, cvss_metrics, cvss_severity, pick_cvss
from civicshield.vulns._ssvc import MISSION_WELLBEING, SSVC_TABLE_NAME, ssvc_decision
from civicshield.vulns.enums import Decision
from civicshield.vulns.policy import Policy, default_policy

__all__ = [
    "Assessment",
    "AssetFacts",
    "CveFacts",
    "Policy",
    "assess",
    "default_policy",
    "priority_key",
]


@dataclass(frozen=True, slots=True)
class CveFacts:
    """What the store knows of a CVE (the `Cve` row's shape). `in_store` is False for a CVE only
    a scanner reported; `scanner_cvss` (vector, score) counts only when `cvss` is empty."""

    cve_id: str
    cvss: list[dict[str, Any]] = field(default_factory=list)
    ssvc: dict[str, Any] | None = None
    kev_date_added: date | None = None
    kev_due_date: date | None = None
    kev_ransomware: bool = False
    epss: float | None = None
    epss_percentile: float | None = None
    scanner_cvss: tuple[str | None, float | None] | None = None
    scanner_severity: str | None = None
    in_store: bool = True

    @property
    def in_kev(self) -> bool:
        return self.kev_date_added is not None or self.kev_due_date is not None


@dataclass(frozen=True, slots=True)
class AssetFacts:
    criticality: int = 3  # 1..5
    internet_exposed: bool = False
    sector: str = "other"
    kind: str = "it"

    def __post_init__(self) -> None:
        if not 1 <= self.criticality <= 5:
            raise ValueError(f"asset criticality {self.criticality} is not between 1 and 5")


@dataclass(frozen=True, slots=True)
class Assessment:
    decision: Decision
    severity: Severity | None
    cvss_score: float | None
    cvss_vector: str
    cvss_version: str | None
    due_date: date
    priority: int
    explanation: list[str]
    inputs: dict[str, Any]


def _cisa(cve: CveFacts, key: str) -> str | None:
    value = (cve.ssvc or {}).get(key)
    return str(value).strip().lower() if value not in (None, "") else None


def _exploitation(cve: CveFacts, policy: Policy) -> tuple[str, str]:
    rule = policy.exploitation
    if cve.in_kev and rule.kev_is_active:
        since = f" since {cve.kev_date_added}" if cve.kev_date_added else ""
        due = f" (due {cve.kev_due_date})" if cve.kev_due_date else ""
        ransom = ", known ransomware use" if cve.kev_ransomware else ""
        return "active", f"in CISA KEV{since}{due}{ransom}"
    cisa = _cisa(cve, "exploitation")
    if rule.use_cisa and cisa is not None:
        return cisa, "CISA SSVC (vulnrichment)"
    if cve.epss is None:
        return "none", "no CISA value and no EPSS score"
    epss = f"EPSS {cve.epss:.3f} (percentile {cve.epss_percentile or 0:.2f})"
    if rule.epss_poc_threshold is not None and cve.epss >= rule.epss_poc_threshold:
        return "poc", f"{epss} is at or above {rule.epss_poc_threshold}; no CISA value"
    pct = rule.epss_percentile_poc_threshold
    if pct is not None and (cve.epss_percentile or 0.0) >= pct:
        return "poc", f"{epss}: percentile at or above {pct}; no CISA value"
    return "none", f"{epss} is below the threshold; no CISA value"


_AUTOMATABLE = {
    "2": {"AV": "N", "AC": "L", "Au": "N"},
    "3": {"AV": "N", "AC": "L", "PR": "N", "UI": "N"},
    "4": {"AV": "N", "AC": "L", "AT": "N", "PR": "N", "UI": "N"},
}
_TOTAL = {"2": ("C", "I", "A", "C"), "3": ("C", "I", "A", "H"), "4": ("VC", "VI", "VA", "H")}


def _from_vector(pick: CvssPick | None, test: str) -> bool | None:
    if pick is None or not pick.result.vector:
        return None
    major = pick.result.version.split(".")[0]
    metrics = cvss_metrics(pick.result.vector)
    if test == "automatable":
        return all(metrics.get(k) == v for k, v in _AUTOMATABLE.get(major, {"?": "?"}).items())
    c, i, a, high = _TOTAL.get(major, ("?", "?", "?", "?"))
    return metrics.get(c) == metrics.get(i) == metrics.get(a) == high


def _derived(
    cve: CveFacts, key: str, pick: CvssPick | None, use_cisa: bool, from_cvss: bool
) -> tuple[str, str]:
    yes, no = ("yes", "no") if key == "automatable" else ("total", "partial")
    cisa = _cisa(cve, key)
    if use_cisa and cisa is not None:
        return cisa, "CISA SSVC (vulnrichment)"
    inferred = _from_vector(pick, key) if from_cvss else None
    if inferred is None or pick is None:
        if from_cvss is False:
            return no, "no CISA value (inference from CVSS is off in the policy)"
        return no, "no CISA value and no CVSS vector to infer from"
    return (yes if inferred else no), f"from the CVSS vector {pick.result.vector}; no CISA value"


def _mission(asset: AssetFacts, policy: Policy) -> tuple[str, str]:
    rule = policy.mission
    level = MISSION_WELLBEING.index(rule.by_criticality[asset.criticality])
    why = [f"asset criticality {asset.criticality} ({criticality_label(asset.criticality)})"]
    if asset.internet_exposed and rule.raise_if_internet_exposed:
        level = min(level + 1, 2)
        why.append("exposed to the internet")
    floor = {str(k): v for k, v in rule.sector_floor.items()}.get(asset.sector)
    if floor is not None and MISSION_WELLBEING.index(floor) > level:
        level = MISSION_WELLBEING.index(floor)
        why.append(f"at least {floor} for the {asset.sector} sector")
    return MISSION_WELLBEING[level], ", ".join(why)


def priority_key(
    decision: Decision, in_kev: bool, epss: float | None, cvss: float | None, criticality: int
) -> int:
    """Lower is sooner. Nine decimal digits D K EEE CCC A: D = 3 - decision rank (Act 0),
    K = 0 in KEV else 1, EEE = 100 - EPSS in percent, CCC = 100 - CVSS × 10, A = 5 - criticality;
    unknown EPSS or CVSS count as 0. Fits a 32-bit integer column."""
    d = len(Decision) - 1 - decision.rank
    e = 100 - round((epss or 0.0) * 100)
    c = 100 - round((cvss or 0.0) * 10)
    return (((d * 10 + (0 if in_kev else 1)) * 1000 + e) * 1000 + c) * 10 + (5 - criticality)


def _cvss_pick(cve: CveFacts, policy: Policy) -> tuple[CvssPick | None, list[str]]:
    if cve.cvss:
        pick = pick_cvss(cve.cvss, policy.cvss)
    elif cve.scanner_cvss is not None:
        vector, score = cve.scanner_cvss
        vector = (vector or "").strip()
        if not vector and score is not None:
            # A score without a vector: severity only, nothing to infer SSVC inputs from.
            result = CvssResult("", float(score), cvss_severity(float(score), "3.1"), "")
            line = f"CVSS: {score:.1f} {result.severity.value} (the scanner's score, no vector)."
            return CvssPick(result, "the scanner", computed=False), [line]
        raw: dict[str, Any] = {"vector": vector, "base_score": score}
        raw |= {"source": "scanner", "kind": "scanner", "version": _version_of(vector)}
        pick = pick_cvss([raw], policy.cvss)
    else:
        pick = None
    if pick is None:
        return None, ["CVSS: none published for this CVE."]
    r = pick.result
    how = "computed from the vector" if pick.computed else "as published"
    line = f"CVSS: {r.base_score:.1f} {r.severity.value} (v{r.version}, {pick.source}, {how})."
    return pick, [line, *pick.notes]


def _version_of(vector: str) -> str:
    return vector[5:8] if vector.startswith("CVSS:") else "2.0"


def _floor(decision: Decision, cve: CveFacts, policy: Policy) -> tuple[Decision, str | None]:
    floors = [(policy.floors.kev, "it is in CISA KEV")] if cve.in_kev else []
    if cve.in_kev and cve.kev_ransomware:
        floors.append((policy.floors.kev_ransomware, "it is in CISA KEV with known ransomware use"))
    for floor, why in sorted(floors, key=lambda f: -(f[0].rank if f[0] else -1)):
        if floor is not None and floor.rank > decision.rank:
            return floor, f"Raised from {decision.label} to {floor.label}: {why}."
    return decision, None


def _due(decision: Decision, cve: CveFacts, policy: Policy, first_seen: date) -> tuple[date, str]:
    days = policy.sla.days[decision]
    sla = first_seen + timedelta(days=days)
    kev = cve.kev_due_date
    if kev is not None and policy.sla.kev_due_date_first and kev < sla:
        return kev, f"Due {kev}: KEV due date (earlier than the {days}-day SLA)."
    return sla, f"Due {sla}: {days}-day SLA for {decision.label} from first seen {first_seen}."


def assess(cve: CveFacts, asset: AssetFacts, policy: Policy, *, first_seen: date) -> Assessment:
    """Decide one finding under `policy`; every input and its origin is explained."""
    notes: list[str] = []
    if not cve.in_store:
        notes.append(
            f"{cve.cve_id} is not in the vulnerability store: no CISA SSVC, KEV or EPSS data; "
            "assessed from what the scanner reported."
        )
    pick, cvss_lines = _cvss_pick(cve, policy)
    e, e_why = _exploitation(cve, policy)
    a, a_why = _derived(
        cve, "automatable", pick, policy.automatable.use_cisa, policy.automatable.from_cvss
    )
    ti, ti_why = _derived(
        cve,
        "technical_impact",
        pick,
        policy.technical_impact.use_cisa,
        policy.technical_impact.from_cvss,
    )
    mwb, mwb_why = _mission(asset, policy)
    table = ssvc_decision(e, a, ti, mwb)
    decision, floor_line = _floor(table, cve, policy)
    due, due_line = _due(decision, cve, policy, first_seen)
    severity = pick.result.severity if pick else _scanner_severity(cve.scanner_severity)
    score = pick.result.base_score if pick else None
    explanation = [
        *notes,
        f"Exploitation: {e} — {e_why}.",
        f"Automatable: {a} — {a_why}.",
        f"Technical impact: {ti} — {ti_why}.",
        f"Mission & well-being: {mwb} — {mwb_why}.",
        *cvss_lines,
        f"Decision: {table.label} ({SSVC_TABLE_NAME}, E={e} A={a} TI={ti} MWB={mwb}).",
        *([floor_line] if floor_line else []),
        due_line,
    ]
    if pick is None and severity is not None:
        explanation.insert(len(notes) + 4, f"Severity: {severity.value}, as the scanner rated it.")
    inputs = {
        "exploitation": e,
        "automatable": a,
        "technical_impact": ti,
        "mission_wellbeing": mwb,
        "table_decision": table.value,
        "in_kev": cve.in_kev,
        "kev_ransomware": cve.kev_ransomware,
        "epss": cve.epss,
        "epss_percentile": cve.epss_percentile,
        "cvss_source": pick.source if pick else None,
        "criticality": asset.criticality,
        "internet_exposed": asset.internet_exposed,
        "sector": asset.sector,
        "first_seen": first_seen.isoformat(),
    }
    return Assessment(
        decision=decision,
        severity=severity,
        cvss_score=score,
        cvss_vector=pick.result.vector if pick else "",
        cvss_version=(pick.result.version or None) if pick else None,
        due_date=due,
        priority=priority_key(decision, cve.in_kev, cve.epss, score, asset.criticality),
        explanation=explanation,
        inputs=inputs,
    )


def _scanner_severity(value: str | None) -> Severity | None:
    if not value:
        return None
    text = value.strip().lower()
    text = {"info": "informational", "none": "informational", "moderate": "medium"}.get(text, text)
    try:
        return Severity(text)
    except ValueError:
        return None  # an unknown scanner word: better no severity than a wrong one
