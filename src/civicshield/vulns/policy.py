"""The prioritisation policy: data the owner edits and versions (rows of `PriorityPolicy`).

Every rule that turns CVE and asset facts into SSVC inputs, floors, SLA days and the CVSS choice
is a field here, so a change is a new policy version, not a code change. Validation errors carry
the field path (pydantic's `loc`); `Policy.model_json_schema()` feeds the editor.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from civicshield.core.enums import Sector
from civicshield.vulns.enums import Decision

__all__ = [
    "AutomatableRule",
    "CvssChoice",
    "ExploitationRule",
    "Floors",
    "MissionRule",
    "MissionWellbeing",
    "Policy",
    "SlaRule",
    "TechnicalImpactRule",
    "default_policy",
]

MissionWellbeing = Literal["low", "medium", "high"]
CvssVersion = Literal["2.0", "3.0", "3.1", "4.0"]
CvssSource = Literal["cisa-adp", "nvd", "cna", "adp", "scanner"]

_STRICT = ConfigDict(extra="forbid", frozen=True)


# Typed default factories (a bare lambda's literals widen to str for mypy).
def _by_criticality() -> dict[int, MissionWellbeing]:
    return {1: "low", 2: "low", 3: "medium", 4: "high", 5: "high"}


def _sector_floor() -> dict[Sector, MissionWellbeing]:
    return {Sector.WATER: "medium", Sector.HEALTH: "medium"}


def _versions() -> list[CvssVersion]:
    return ["4.0", "3.1", "3.0", "2.0"]


def _sources() -> list[CvssSource]:
    return ["cisa-adp", "nvd", "cna", "adp", "scanner"]


class ExploitationRule(BaseModel):
    model_config = _STRICT

    kev_is_active: bool = Field(True, description="A CVE in CISA KEV is always `active`.")
    use_cisa: bool = Field(True, description="Use CISA's SSVC value when it publishes one.")
    epss_poc_threshold: float | None = Field(
        0.1, ge=0.0, le=1.0, description="EPSS at or above this means `poc`; null: unused."
    )
    epss_percentile_poc_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="EPSS percentile at or above this means `poc`."
    )


class AutomatableRule(BaseModel):
    model_config = _STRICT

    use_cisa: bool = True
    from_cvss: bool = Field(
        True,
        description="`yes` when the CVSS vector is AV:N/AC:L/PR:N/UI:N (v3), "
        "AV:N/AC:L/AT:N/PR:N/UI:N (v4) or AV:N/AC:L/Au:N (v2).",
    )


class TechnicalImpactRule(BaseModel):
    model_config = _STRICT

    use_cisa: bool = True
    from_cvss: bool = Field(
        True,
        description="`total` when C/I/A (v3), VC/VI/VA (v4) are all High or all Complete (v2).",
    )


class MissionRule(BaseModel):
    model_config = _STRICT

    by_criticality: dict[int, MissionWellbeing] = Field(
        default_factory=_by_criticality,
        description="Mission & well-being for each asset criticality 1-5.",
    )
    raise_if_internet_exposed: bool = Field(
        True, description="An internet-exposed asset is raised one step (at most high)."
    )
    sector_floor: dict[Sector, MissionWellbeing] = Field(
        default_factory=_sector_floor,
        description="The lowest mission & well-being for assets of a sector.",
    )

    @field_validator("by_criticality")
    @classmethod
    def _all_levels(cls, value: dict[int, MissionWellbeing]) -> dict[int, MissionWellbeing]:
        missing = sorted({1, 2, 3, 4, 5} - value.keys())
        extra = sorted(value.keys() - {1, 2, 3, 4, 5})
        if missing or extra:
            raise ValueError(
                f"needs exactly the criticalities 1-5 (missing {missing}, extra {extra})"
            )
        return value


class Floors(BaseModel):
    model_config = _STRICT

    kev: Decision | None = Field(Decision.ATTEND, description="Lowest decision for a KEV CVE.")
    kev_ransomware: Decision | None = Field(
        Decision.ACT, description="Lowest decision for a KEV CVE with known ransomware use."
    )


class SlaRule(BaseModel):
    model_config = _STRICT

    days: dict[Decision, int] = Field(
        default_factory=lambda: {
            Decision.ACT: 7,
            Decision.ATTEND: 30,
            Decision.TRACK_STAR: 90,
            Decision.TRACK: 180,
        },
        description="Days from first seen to the due date, per decision.",
    )
    kev_due_date_first: bool = Field(
        True, description="CISA KEV's due date wins when it is earlier than the SLA."
    )

    @field_validator("days")
    @classmethod
    def _every_decision(cls, value: dict[Decision, int]) -> dict[Decision, int]:
        missing = [d.value for d in Decision if d not in value]
        if missing:
            raise ValueError(f"needs days for every decision (missing: {', '.join(missing)})")
        bad = [f"{d.value}={n}" for d, n in value.items() if n < 0 or n > 3650]
        if bad:
            raise ValueError(f"days must be 0-3650 (got {', '.join(bad)})")
        return value


class CvssChoice(BaseModel):
    model_config = _STRICT

    prefer: Literal["version", "source"] = Field(
        "version", description="Rank metrics by version first, or by source first."
    )
    versions: list[CvssVersion] = Field(default_factory=_versions, min_length=1)
    sources: list[CvssSource] = Field(default_factory=_sources, min_length=1)
    disagreement: float = Field(
        0.1, ge=0.0, le=10.0, description="Flag other sources whose score differs by this much."
    )


class Policy(BaseModel):
    """How a finding's SSVC decision, due date and priority are derived (see
    docs/vulns-priority.md for the defaults and their sources)."""

    model_config = _STRICT

    exploitation: ExploitationRule = Field(default_factory=ExploitationRule)
    automatable: AutomatableRule = Field(default_factory=AutomatableRule)
    technical_impact: TechnicalImpactRule = Field(default_factory=TechnicalImpactRule)
    mission: MissionRule = Field(default_factory=MissionRule)
    floors: Floors = Field(default_factory=Floors)
    sla: SlaRule = Field(default_factory=SlaRule)
    cvss: CvssChoice = Field(default_factory=CvssChoice)


def default_policy() -> Policy:
    return Policy()
