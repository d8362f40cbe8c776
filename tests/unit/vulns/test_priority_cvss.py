"""CVSS scoring with the `cvss` library, severity bands and the choice between sources."""

from __future__ import annotations

from typing import Any

import pytest

from civicshield.core.enums import Severity
from civicshield.vulns._cvss import CvssError, cvss_severity, pick_cvss, score_vector
from civicshield.vulns.policy import CvssChoice

V31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


@pytest.mark.parametrize(
    ("vector", "version", "score", "severity"),
    [
        (V31, "3.1", 9.8, Severity.CRITICAL),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N", "3.0", 9.1, Severity.CRITICAL),
        (V40, "4.0", 9.3, Severity.CRITICAL),
        (V40 + "/E:U", "4.0", 8.1, Severity.HIGH),  # the threat metric lowers v4 (note §1)
        ("AV:N/AC:L/Au:N/C:P/I:P/A:N", "2.0", 6.4, Severity.MEDIUM),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0.0, Severity.INFORMATIONAL),
    ],
)
def test_score_vector(vector: str, version: str, score: float, severity: Severity) -> None:
    result = score_vector(vector)
    assert (result.version, result.base_score, result.severity) == (version, score, severity)


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 'Unknown value "X"'),
        ("CVSS:4.0/AV:N", "Missing mandatory metrics"),
        ("CVSS:9.9/AV:N", "unsupported version"),
        ("garbage", "garbage"),
    ],
)
def test_malformed_vector_names_vector_and_reason(vector: str, reason: str) -> None:
    with pytest.raises(CvssError) as info:
        score_vector(vector)
    assert repr(vector) in str(info.value) and reason in str(info.value)


@pytest.mark.parametrize(
    ("score", "version", "severity"),
    [
        (3.9, "3.1", Severity.LOW),
        (4.0, "3.1", Severity.MEDIUM),
        (6.9, "4.0", Severity.MEDIUM),
        (7.0, "3.0", Severity.HIGH),
        (8.9, "3.1", Severity.HIGH),
        (9.0, "3.1", Severity.CRITICAL),
        (10.0, "2.0", Severity.HIGH),  # v2 has no Critical band
        (0.0, "2.0", Severity.LOW),
    ],
)
def test_severity_bands(score: float, version: str, severity: Severity) -> None:
    assert cvss_severity(score, version) is severity


def _m(version: str, vector: str, score: float | None, source: str, kind: str) -> dict[str, Any]:
    sev = None
    return {
        "version": version,
        "vector": vector,
        "base_score": score,
        "base_severity": sev,
        "source": source,
        "kind": kind,
    }


# CVE-2023-41266 (Qlik Sense; KEV): CNA 8.2 vs NVD 6.5, as the research note records.
QLIK = [
    _m("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", 6.5, "nvd@nist.gov", "primary"),
    _m("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N", 8.2, "cna:qlik", "cna"),
]


def test_disagreement_between_sources_is_flagged() -> None:
    pick = pick_cvss(QLIK)
    assert pick is not None and pick.source == "NVD" and pick.result.base_score == 6.5
    assert pick.notes == ["Sources disagree: NVD gives 6.5 (v3.1); CNA (qlik) gives 8.2 (v3.1)."]


def test_source_preference_can_put_the_cna_first() -> None:
    pick = pick_cvss(QLIK, CvssChoice(sources=["cna", "nvd"]))
    assert pick is not None and pick.source == "CNA (qlik)" and pick.result.base_score == 8.2


def test_small_differences_below_the_threshold_are_not_flagged() -> None:
    pick = pick_cvss(QLIK, CvssChoice(disagreement=2.0))
    assert pick is not None and pick.notes == []


def test_highest_version_first_by_default_and_source_first_on_request() -> None:
    scores = [
        _m("3.1", V31, 9.8, "nvd@nist.gov", "primary"),
        _m("4.0", V40 + "/E:U", None, "cna:acme", "cna"),
    ]
    by_version = pick_cvss(scores)
    assert by_version is not None and by_version.result.version == "4.0"
    # No published score: computed from the vector, and said so.
    assert by_version.computed and by_version.result.base_score == 8.1
    by_source = pick_cvss(scores, CvssChoice(prefer="source"))
    assert by_source is not None and by_source.source == "NVD"
    assert by_source.result.base_score == 9.8


def test_cisa_adp_is_named_and_a_broken_vector_is_skipped_with_a_note() -> None:
    scores = [
        _m("3.1", "CVSS:3.1/AV:Q", None, "cna:acme", "cna"),
        _m("3.1", V31, 9.8, "adp:CISA-ADP", "adp"),
    ]
    pick = pick_cvss(scores)
    assert pick is not None and pick.source == "CISA ADP"
    assert len(pick.notes) == 1 and "CNA (acme)" in pick.notes[0]
    assert "'CVSS:3.1/AV:Q'" in pick.notes[0]


def test_nothing_usable_gives_none() -> None:
    assert pick_cvss([]) is None
    assert pick_cvss([_m("3.1", "CVSS:3.1/AV:Q", None, "cna:x", "cna")]) is None


def test_cisa_adp_comes_before_nvd_within_a_version_by_default() -> None:
    scores = [
        _m("3.1", V31, 9.8, "nvd@nist.gov", "primary"),
        _m("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "adp:CISA-ADP", "adp"),
    ]
    pick = pick_cvss(scores)
    assert pick is not None and (pick.source, pick.result.base_score) == ("CISA ADP", 7.5)
    assert pick.notes == ["Sources disagree: CISA ADP gives 7.5 (v3.1); NVD gives 9.8 (v3.1)."]
