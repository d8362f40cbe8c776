"""Matcher semantics on small hand-built configurations."""

from __future__ import annotations

import pytest

from civicshield.vulns.applicability import (
    ApplicabilityError,
    Configuration,
    CpeMatch,
    CveApplicability,
    Node,
    Operator,
    VersionRange,
    parse_cve5,
    parse_nvd_cve,
)
from civicshield.vulns.cpe import Cpe, parse_cpe
from civicshield.vulns.matcher import Certainty, Matcher


def _m(cpe: str, *, vulnerable: bool = True, **bounds: str) -> CpeMatch:
    return CpeMatch(parse_cpe(cpe), vulnerable, f"id-{cpe}", VersionRange(**bounds))


def _cve(cve_id: str, *configs: Configuration) -> CveApplicability:
    return CveApplicability(cve_id, configs)


def _or(*matches: CpeMatch, negate: bool = False) -> Node:
    return Node(Operator.OR, negate, matches)


FW = "cpe:2.3:o:acme:cam_firmware:*:*:*:*:*:*:*:*"
HW = "cpe:2.3:h:acme:cam:-:*:*:*:*:*:*:*"
RUNNING_ON = Configuration(
    Operator.AND,
    False,
    (_or(_m(FW, end_excluding="2.0")), _or(_m(HW, vulnerable=False))),
)


def _cpes(*texts: str) -> list[Cpe]:
    return [parse_cpe(t) for t in texts]


def test_running_on_needs_both_and_reports_only_the_firmware() -> None:
    matcher = Matcher([_cve("CVE-1", RUNNING_ON)])
    both = matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:1.9:*:*:*:*:*:*:*", HW))
    assert [(f.cve_id, f.asset_cpe.part, f.certainty) for f in both] == [
        ("CVE-1", "o", Certainty.AFFECTED)
    ]
    assert "< 2.0" in both[0].why
    assert matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:1.9:*:*:*:*:*:*:*")) == []
    assert matcher.match(_cpes(HW)) == []  # the platform alone is never affected
    assert matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:2.0:*:*:*:*:*:*:*", HW)) == []


def test_running_on_with_another_hardware_model_does_not_match() -> None:
    matcher = Matcher([_cve("CVE-1", RUNNING_ON)])
    other_hw = "cpe:2.3:h:acme:doorbell:-:*:*:*:*:*:*:*"
    assert matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:1.0:*:*:*:*:*:*:*", other_hw)) == []


def test_or_configuration_and_unknown_version_is_only_possible() -> None:
    conf = Configuration(Operator.OR, False, (_or(_m(FW, end_including="6.42")),))
    matcher = Matcher([_cve("CVE-2", conf)])
    [found] = matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:*:*:*:*:*:*:*:*"))
    assert found.certainty is Certainty.POSSIBLE
    [found] = matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:6.42:*:*:*:*:*:*:*"))
    assert found.certainty is Certainty.AFFECTED
    assert matcher.match(_cpes("cpe:2.3:o:acme:cam_firmware:6.42.1:*:*:*:*:*:*:*")) == []


def test_na_criterion_version_is_possible_for_a_concrete_firmware() -> None:
    crit = _m("cpe:2.3:o:acme:plc_firmware:-:*:*:*:*:*:*:*")
    matcher = Matcher([_cve("CVE-3", Configuration(Operator.OR, False, (_or(crit),)))])
    [found] = matcher.match(_cpes("cpe:2.3:o:acme:plc_firmware:9.8:*:*:*:*:*:*:*"))
    assert found.certainty is Certainty.POSSIBLE
    [found] = matcher.match(_cpes("cpe:2.3:o:acme:plc_firmware:-:*:*:*:*:*:*:*"))
    assert found.certainty is Certainty.AFFECTED


def test_negated_node_excludes() -> None:
    conf = Configuration(
        Operator.AND,
        False,
        (
            _or(_m("cpe:2.3:a:acme:app:*:*:*:*:*:*:*:*")),
            _or(_m("cpe:2.3:o:acme:os:*:*:*:*:*:*:*:*", vulnerable=False), negate=True),
        ),
    )
    matcher = Matcher([_cve("CVE-4", conf)])
    app = "cpe:2.3:a:acme:app:1.0:*:*:*:*:*:*:*"
    assert len(matcher.match(_cpes(app))) == 1
    assert matcher.match(_cpes(app, "cpe:2.3:o:acme:os:3:*:*:*:*:*:*:*")) == []


def test_and_node_needs_every_criterion() -> None:
    node = Node(
        Operator.AND,
        False,
        (_m("cpe:2.3:a:acme:app:*:*:*:*:*:*:*:*"), _m("cpe:2.3:a:acme:plugin:*:*:*:*:*:*:*:*")),
    )
    matcher = Matcher([_cve("CVE-5", Configuration(Operator.OR, False, (node,)))])
    assert matcher.match(_cpes("cpe:2.3:a:acme:app:1:*:*:*:*:*:*:*")) == []
    both = matcher.match(
        _cpes("cpe:2.3:a:acme:app:1:*:*:*:*:*:*:*", "cpe:2.3:a:acme:plugin:2:*:*:*:*:*:*:*")
    )
    assert sorted(f.asset_cpe.product for f in both) == ["app", "plugin"]


def test_exact_version_criterion_uses_version_equality_and_aliases() -> None:
    crit = _m("cpe:2.3:h:d-link:dir-600:2.0:*:*:*:*:*:*:*")
    matcher = Matcher([_cve("CVE-6", Configuration(Operator.OR, False, (_or(crit),)))])
    assert len(matcher.match(_cpes("cpe:2.3:h:dlink:dir-600:2.0.0:*:*:*:*:*:*:*"))) == 1
    assert matcher.match(_cpes("cpe:2.3:h:dlink:dir-600:2.1:*:*:*:*:*:*:*")) == []


def test_update_any_on_the_asset_is_possible_not_affected() -> None:
    crit = _m("cpe:2.3:a:netapp:clustered_data_ontap:9.8:p7:*:*:*:*:*:*")
    matcher = Matcher([_cve("CVE-7", Configuration(Operator.OR, False, (_or(crit),)))])
    [found] = matcher.match(_cpes("cpe:/a:netapp:clustered_data_ontap:9.8"))
    assert found.certainty is Certainty.POSSIBLE
    exact = matcher.match(_cpes("cpe:2.3:a:netapp:clustered_data_ontap:9.8:p7:*:*:*:*:*:*"))
    assert exact[0].certainty is Certainty.AFFECTED
    assert matcher.match(_cpes("cpe:2.3:a:netapp:clustered_data_ontap:9.8:p6:*:*:*:*:*:*")) == []


def test_bad_nvd_record_names_cve_and_path() -> None:
    record = {
        "id": "CVE-2099-0001",
        "configurations": [{"nodes": [{"operator": "OR", "cpeMatch": [{"vulnerable": True}]}]}],
    }
    with pytest.raises(ApplicabilityError, match=r"CVE-2099-0001: .*cpeMatch\[0\]\.criteria"):
        parse_nvd_cve(record)
    record["configurations"] = [
        {"nodes": [{"operator": "XOR", "cpeMatch": []}]},
    ]
    with pytest.raises(ApplicabilityError, match=r"nodes\[0\]\.operator"):
        parse_nvd_cve(record)
    bad_cpe = {
        "id": "CVE-2099-0002",
        "configurations": [
            {"nodes": [{"operator": "OR", "cpeMatch": [{"vulnerable": True, "criteria": "x"}]}]}
        ],
    }
    with pytest.raises(ApplicabilityError, match=r"CVE-2099-0002: .*criteria: not a CPE"):
        parse_nvd_cve(bad_cpe)


def test_cve5_adp_parallel_lists_and_running_on() -> None:
    record = {
        "cveMetadata": {"cveId": "CVE-2099-0003"},
        "containers": {
            "cna": {"affected": [{"vendor": "Acme", "product": "Cam", "versions": []}]},
            "adp": [
                {
                    "affected": [
                        {
                            "cpes": [
                                "cpe:2.3:o:acme:cam_firmware:-:*:*:*:*:*:*:*",
                                "cpe:2.3:o:acme:cam_firmware:-:*:*:*:*:*:*:*",
                            ],
                            "versions": [
                                {"status": "affected", "version": "0", "lessThan": "1.5"},
                                {"status": "affected", "version": "2.0", "lessThanOrEqual": "2.2"},
                            ],
                        },
                        {
                            "cpes": ["cpe:2.3:h:acme:cam:-:*:*:*:*:*:*:*"],
                            "versions": [{"status": "affected", "version": "0", "lessThan": "*"}],
                        },
                    ]
                }
            ],
        },
    }
    cve = parse_cve5(record)
    assert len(list(cve.criteria())) == 3
    matcher = Matcher([cve])
    hw = "cpe:2.3:h:acme:cam:-:*:*:*:*:*:*:*"
    for version, hit in [
        ("1.4", True),
        ("1.5", False),
        ("2.0", True),
        ("2.2", True),
        ("2.3", False),
    ]:
        found = matcher.match(_cpes(f"cpe:2.3:o:acme:cam_firmware:{version}:*:*:*:*:*:*:*", hw))
        assert bool(found) is hit, version
        assert all(f.asset_cpe.part == "o" for f in found)
    bad = {
        "cveMetadata": {"cveId": "CVE-2099-0004"},
        "containers": {"adp": [{"affected": [{"cpes": ["cpe:2.3:a"]}]}]},
    }
    with pytest.raises(
        ApplicabilityError,
        match=r"CVE-2099-0004: \$\.containers\.adp\[0\]\.affected\[0\]\.cpes\[0\]",
    ):
        parse_cve5(bad)
