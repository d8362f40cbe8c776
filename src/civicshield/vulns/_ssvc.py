"""CISA's SSVC coordinator decision table (version 2.0.3, 36 leaves).

Source: CERTCC/SSVC `src/ssvc/decision_tables/cisa/cisa_coordinate_dt.py` (CISA_COORDINATE_1).
Encoded here as 12 rows of (Exploitation, Automatable, Technical Impact) with one outcome per
Mission & Well-being column, the layout CISA prints; the PyPI `ssvc` package disagrees with
CERT/CC on one leaf, so we do not depend on it.
"""

from __future__ import annotations

from typing import Final

from civicshield.vulns.enums import Decision

__all__ = [
    "AUTOMATABLE",
    "EXPLOITATION",
    "MISSION_WELLBEING",
    "SSVC_TABLE_NAME",
    "TECHNICAL_IMPACT",
    "ssvc_decision",
]

SSVC_TABLE_NAME = "SSVC CISA coordinator table 2.0.3"
EXPLOITATION: Final = ("none", "poc", "active")
AUTOMATABLE: Final = ("no", "yes")
TECHNICAL_IMPACT: Final = ("partial", "total")
MISSION_WELLBEING: Final = ("low", "medium", "high")

_T, _TS, _AT, _AC = Decision.TRACK, Decision.TRACK_STAR, Decision.ATTEND, Decision.ACT

# (exploitation, automatable, technical impact) -> outcome for MWB low, medium, high.
_TABLE: Final[dict[tuple[str, str, str], tuple[Decision, Decision, Decision]]] = {
    ("none", "no", "partial"): (_T, _T, _T),
    ("none", "no", "total"): (_T, _T, _TS),
    ("none", "yes", "partial"): (_T, _T, _AT),
    ("none", "yes", "total"): (_T, _T, _AT),
    ("poc", "no", "partial"): (_T, _T, _TS),
    ("poc", "no", "total"): (_T, _TS, _AT),
    ("poc", "yes", "partial"): (_T, _T, _AT),
    ("poc", "yes", "total"): (_T, _TS, _AT),
    ("active", "no", "partial"): (_T, _T, _AT),
    ("active", "no", "total"): (_T, _AT, _AC),
    ("active", "yes", "partial"): (_AT, _AT, _AC),
    ("active", "yes", "total"): (_AT, _AC, _AC),
}


def _check(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"SSVC {name} {value!r} is not one of: {', '.join(allowed)}")
    return value


def ssvc_decision(
    exploitation: str, automatable: str, technical_impact: str, mission_wellbeing: str
) -> Decision:
    """The CISA coordinator outcome for one leaf; values are lower-case (see the tuples above)."""
    key = (
        _check("exploitation", exploitation, EXPLOITATION),
        _check("automatable", automatable, AUTOMATABLE),
        _check("technical impact", technical_impact, TECHNICAL_IMPACT),
    )
    column = MISSION_WELLBEING.index(
        _check("mission & well-being", mission_wellbeing, MISSION_WELLBEING)
    )
    return _TABLE[key][column]
