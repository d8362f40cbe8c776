"""The CISA coordinator table, checked leaf by leaf against the table as printed in
../shared/research/vuln-risk.md §4 (CERTCC/SSVC cisa_coordinate_dt.py, version 2.0.3)."""

from __future__ import annotations

import pytest

from civicshield.vulns._ssvc import ssvc_decision
from civicshield.vulns.enums import Decision

# Typed from the research note, not from the implementation: E / A / TI | low | medium | high.
PRINTED = """
none   / no  / partial | T      | T      | T
none   / no  / total   | T      | T      | T*
none   / yes / partial | T      | T      | Attend
none   / yes / total   | T      | T      | Attend
poc    / no  / partial | T      | T      | T*
poc    / no  / total   | T      | T*     | Attend
poc    / yes / partial | T      | T      | Attend
poc    / yes / total   | T      | T*     | Attend
active / no  / partial | T      | T      | Attend
active / no  / total   | T      | Attend | Act
active / yes / partial | Attend | Attend | Act
active / yes / total   | Attend | Act    | Act
"""
OUTCOME = {"T": Decision.TRACK, "T*": Decision.TRACK_STAR, "Attend": Decision.ATTEND}
OUTCOME["Act"] = Decision.ACT


def _leaves() -> list[tuple[str, str, str, str, Decision]]:
    leaves = []
    for line in PRINTED.strip().splitlines():
        key, *cells = (c.strip() for c in line.split("|"))
        e, a, ti = (p.strip() for p in key.split("/"))
        for mwb, cell in zip(("low", "medium", "high"), cells, strict=True):
            leaves.append((e, a, ti, mwb, OUTCOME[cell]))
    return leaves


LEAVES = _leaves()


def test_the_printed_table_has_36_distinct_leaves() -> None:
    assert len({leaf[:4] for leaf in LEAVES}) == 36


@pytest.mark.parametrize(("e", "a", "ti", "mwb", "expected"), LEAVES)
def test_every_leaf_matches_cisa(e: str, a: str, ti: str, mwb: str, expected: Decision) -> None:
    assert ssvc_decision(e, a, ti, mwb) is expected


def test_the_leaf_the_pypi_ssvc_package_gets_wrong() -> None:
    # The note: PyPI `ssvc` 1.2.3 says Track* here, CERT/CC says Track.
    assert ssvc_decision("none", "no", "partial", "high") is Decision.TRACK


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("None", "no", "partial", "low"), "exploitation 'None'"),
        (("active", "maybe", "partial", "low"), "automatable 'maybe'"),
        (("active", "no", "full", "low"), "technical impact 'full'"),
        (("active", "no", "total", "critical"), "mission & well-being 'critical'"),
    ],
)
def test_bad_values_are_named(args: tuple[str, str, str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        ssvc_decision(*args)
