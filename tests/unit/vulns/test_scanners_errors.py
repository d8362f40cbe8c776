"""Corrupt input raises ScanError with a position; a bad record becomes a problem; fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicshield.core.errors import Invalid
from civicshield.vulns.scanners import ScanError, ScanReport, parse_scan


def test_truncated_json_names_line_and_column() -> None:
    with pytest.raises(ScanError, match=r"scan\.json: line 2 column \d+: invalid JSON") as info:
        parse_scan(b'{"matches": [\n {"vulnerability": ', source="scan.json")
    assert isinstance(info.value, Invalid)


def test_broken_xml_names_line() -> None:
    with pytest.raises(ScanError, match=r"r\.xml: line 3 column \d+: invalid XML"):
        parse_scan(b"<report>\n<results>\n</report>", source="r.xml")


def test_csv_missing_columns() -> None:
    data = b"IP,NVT Name,NVT OID\n10.0.0.1,x,1.2.3\n"
    with pytest.raises(ScanError, match=r"line 1: CSV header lacks column\(s\): CVSS, Severity"):
        parse_scan(data, source="o.csv", fmt="openvas-csv")


def test_unknown_format_and_wrong_fmt() -> None:
    with pytest.raises(ScanError, match="unknown scanner format"):
        parse_scan(b'{"hello": 1}', source="x.json")
    with pytest.raises(ScanError, match="asked for trivy-json but the content is grype-json"):
        parse_scan(b'{"matches": [], "source": {}}', source="x.json", fmt="trivy-json")
    with pytest.raises(ScanError, match="unknown format 'nessus'"):
        parse_scan(b"", source="x", fmt="nessus")


def test_bad_grype_match_is_a_problem_rest_parses() -> None:
    doc = {
        "source": {"type": "image", "target": {"userInput": "img:1"}},
        "matches": [
            {"vulnerability": {"severity": "High"}, "artifact": {"name": "a"}},
            {
                "vulnerability": {"id": "CVE-2020-0001", "severity": "Unknown"},
                "artifact": {"name": "b"},
            },
        ],
    }
    report = parse_scan(json.dumps(doc).encode(), source="g.json")
    assert [p.location for p in report.problems] == ["g.json: $.matches[0]"]
    assert "vulnerability.id" in report.problems[0].message
    assert [f.vuln_id for f in report.findings] == ["CVE-2020-0001"]
    assert report.findings[0].severity is None  # Grype "Unknown"


def test_bad_csv_row_is_a_problem() -> None:
    data = (
        b"IP,Hostname,CVSS,Severity,NVT Name,NVT OID,CVEs\n"
        b"10.0.0.1,h,notanumber,High,x,1.2.3,CVE-2020-0001\n"
        b"10.0.0.2,H.Example.,5.0,Log,y,1.2.4,\n"
    )
    report = parse_scan(data, source="o.csv")
    assert [p.location for p in report.problems] == ["o.csv: line 2"]
    (finding,) = report.findings
    assert finding.vuln_id == "1.2.4" and finding.severity == "informational"
    assert finding.host is not None and finding.host.hostnames == ("h.example",)


def test_cyclonedx_xml_vex() -> None:
    data = b"""<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">
 <components><component type="firmware" bom-ref="fw"><name>cam-fw</name><version>2.1</version>
 </component></components>
 <vulnerabilities><vulnerability bom-ref="v1"><id>CVE-2021-36260</id>
  <ratings><rating><score>9.8</score><severity>critical</severity><method>CVSSv31</method>
  <vector>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</vector></rating></ratings>
  <analysis><state>not_affected</state><justification>code_not_present</justification>
  <responses><response>will_not_fix</response></responses><detail>web UI removed</detail></analysis>
  <affects><target><ref>fw</ref></target></affects></vulnerability>
  <vulnerability><id>CVE-2017-7921</id><affects><target><ref>fw</ref></target></affects>
  </vulnerability></vulnerabilities>
</bom>"""
    report = parse_scan(data, source="b.xml")
    assert report.format == "cyclonedx-xml"
    (vex,) = report.vex
    assert (vex.state, vex.justification, vex.response) == (
        "not_affected",
        "code_not_present",
        ("will_not_fix",),
    )
    assert vex.component is not None and vex.component.kind == "firmware"
    (finding,) = report.findings
    assert finding.vuln_id == "CVE-2017-7921" and finding.component == vex.component


def test_bad_vex_state_is_a_problem() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "vulnerabilities": [{"id": "CVE-2020-1", "analysis": {"state": "fine"}}],
    }
    report = parse_scan(json.dumps(doc).encode(), source="v.json")
    assert report.problems[0].location == "v.json: $.vulnerabilities[0]"
    assert "not a CycloneDX state" in report.problems[0].message


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400) | st.sampled_from([b"{", b"<a>", b"[1]", b"<report/>", b"\xff"]))
def test_arbitrary_bytes_give_report_or_scan_error(data: bytes) -> None:
    with contextlib.suppress(ScanError):
        assert isinstance(parse_scan(data, source="fuzz"), ScanReport)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            lambda x: {"matches": [x], "source": x},
            lambda x: {
                "SchemaVersion": 2,
                "Results": [{"Vulnerabilities": [x]}],
                "ArtifactName": x,
            },
            lambda x: {"hits": {"hits": [x]}},
            lambda x: {"data": {"affected_items": [x]}},
            lambda x: {"bomFormat": "CycloneDX", "vulnerabilities": [x], "metadata": x},
        ]
    ),
    _json,
)
def test_shaped_json_never_crashes(shape, value) -> None:  # type: ignore[no-untyped-def]
    data = json.dumps(shape(value)).encode()
    with contextlib.suppress(ScanError):
        assert isinstance(parse_scan(data, source="fuzz.json"), ScanReport)
