"""Every shared scanner sample parses; counts and fields checked by reading the files."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.vulns.scanners import HostRef, parse_scan

SAMPLES = Path(__file__).resolve().parents[3].parent / "shared/data/vuln/scanner-samples"
pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"shared scanner samples not found at {SAMPLES}"
)

# file -> (format, findings, vex statements, hosts_seen), counted by reading each file.
EXPECTED = {
    "grype/defectdojo_check_all_fields.json": ("grype-json", 6, 0, 0),
    "grype/defectdojo_many_vulns_with_epss_values.json": ("grype-json", 15, 0, 0),
    "grype/defectdojo_same_cve_different_paths.json": ("grype-json", 2, 0, 0),
    "trivy/defectdojo_all_statuses.json": ("trivy-json", 8, 0, 0),
    "trivy/defectdojo_cvssv4_severity_source.json": ("trivy-json", 3, 0, 0),
    "trivy/defectdojo_scheme_2_many_vulns.json": ("trivy-json", 5, 0, 0),
    "openvas/defectdojo_one_vuln.xml": ("openvas-xml", 12, 0, 1),  # one result naming 12 CVEs
    "openvas/defectdojo_many_vuln.xml": ("openvas-xml", 76, 0, 1),  # 44 results, 21 without CVE
    "openvas/defectdojo_report_using_CVE.csv": ("openvas-csv", 43, 0, 1),
    "wazuh/defectdojo_v4-7_one_finding_with_endpoint.json": ("wazuh-json", 1, 0, 1),
    "wazuh/defectdojo_v4-8_many_findings.json": ("wazuh-json", 10, 0, 8),
    "cyclonedx/bomexamples_HBOM_PCIe-SATA-adapter-board.json": ("cyclonedx-json", 0, 0, 0),
    "cyclonedx/bomexamples_SBOM_laravel-7.12.0_bom.1.4.json": ("cyclonedx-json", 0, 0, 0),
    "cyclonedx/bomexamples_VEX_CISA_Case-2.json": ("cyclonedx-json", 0, 19, 0),
    # Case 8: 8 vulnerabilities, 11 affects refs; the two "exploitable" ones name 2 products each.
    "cyclonedx/bomexamples_VEX_CISA_Case-8.json": ("cyclonedx-json", 4, 11, 0),
    "cyclonedx/bomexamples_VEX_bom.json": ("cyclonedx-json", 0, 0, 0),
    "cyclonedx/bomexamples_VEX_vex.json": ("cyclonedx-json", 0, 1, 0),
    "cyclonedx/defectdojo_cyclonedx_bom.xml": ("cyclonedx-xml", 0, 0, 0),
    "cyclonedx/defectdojo_log4j.json": ("cyclonedx-json", 8, 8, 0),  # in_triage: finding + VEX
    "cyclonedx/defectdojo_valid-vulnerability-1.4.json": ("cyclonedx-json", 0, 1, 0),
    "nmap/defectdojo_nmap_script_vulners.xml": ("nmap-xml", 2, 0, 1),
}


def _parse(name: str, fmt: str | None = None):  # type: ignore[no-untyped-def]
    return parse_scan((SAMPLES / name).read_bytes(), source=name, fmt=fmt)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses_with_expected_counts(name: str) -> None:
    fmt, findings, vex, hosts = EXPECTED[name]
    report = _parse(name)
    assert report.format == fmt
    assert (len(report.findings), len(report.vex), report.hosts_seen) == (findings, vex, hosts)
    assert _parse(name, fmt).findings == report.findings  # explicit format agrees with sniffing
    for finding in report.findings:
        assert finding.severity in (None, "critical", "high", "medium", "low", "informational")
        assert finding.location.startswith(name)


def test_grype_ghsa_with_related_cve_and_negligible() -> None:
    report = _parse("grype/defectdojo_check_all_fields.json")
    first, redis, django = report.findings[0], report.findings[1], report.findings[4]
    assert first.vuln_id == "CVE-2004-0971" and first.severity == "informational"
    assert first.cvss_vector == "AV:L/AC:L/Au:N/C:N/I:P/A:N" and first.cvss_score == 2.1
    assert first.component is not None and first.component.name == "libgssapi-krb5-2"
    assert first.component.purl == "pkg:deb/debian/libgssapi-krb5-2@1.17-3+deb10u3?arch=amd64"
    assert first.host is None and report.subject is not None
    assert report.subject.name == "vulnerable-image:latest"
    assert redis.fix_versions == ("fix_1", "fix_2")
    assert django.vuln_id == "CVE-2021-44420" and django.aliases == ("GHSA-v6rh-hp5x-86rv",)
    assert django.fix_versions == ("3.2.10",)


def test_grype_epss_and_v31_preferred_over_v2() -> None:
    first = _parse("grype/defectdojo_many_vulns_with_epss_values.json").findings[0]
    assert first.vuln_id == "CVE-2022-28391"
    assert (first.epss, first.epss_percentile) == (0.0719, 0.91123)
    assert first.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"
    assert first.cvss_score == 8.8
    assert first.detail["namespace"] == "nvd:cpe" and first.detail["match_details"]


def test_trivy_cvss_v4_status_and_fix_versions() -> None:
    tomcat = _parse("trivy/defectdojo_cvssv4_severity_source.json").findings[0]
    assert tomcat.vuln_id == "CVE-2025-66614" and tomcat.aliases == ("GHSA-fpj8-gq4v-p354",)
    assert tomcat.cvss_score == 6.3 and tomcat.cvss_vector is not None
    assert tomcat.cvss_vector.startswith("CVSS:4.0/") and tomcat.detail["cvss_source"] == "ghsa"
    assert tomcat.fix_versions == ("11.0.14", "10.1.49", "9.0.112")
    assert tomcat.component is not None
    assert tomcat.component.purl == "pkg:maven/org.apache.tomcat/tomcat-catalina@9.0.109"
    bash = _parse("trivy/defectdojo_all_statuses.json").findings[1]
    assert bash.detail["status"] == "not_affected" and bash.severity == "low"
    assert (bash.cvss_score, bash.detail["cvss_source"]) == (7.8, "nvd")


def test_openvas_xml_host_qod_and_log_severity() -> None:
    one = _parse("openvas/defectdojo_one_vuln.xml").findings
    assert [f.vuln_id for f in one][:2] == ["CVE-2023-4573", "CVE-2023-4574"]
    assert len(one[0].aliases) == 11 and one[0].host == HostRef(ips=("10.0.101.2",))
    assert one[0].detail["qod"] == 97 and one[0].detail["nvt_oid"] == "1.3.6.1.4.1.25623.1.0.832260"
    assert one[0].severity == "high" and one[0].cvss_score == 10.0
    many = _parse("openvas/defectdojo_many_vuln.xml")
    # 192.168.1.1001 is not an IP: each of the 44 results reports it, the hostname stays.
    assert len(many.problems) == 44 and "192.168.1.1001" in many.problems[0].message
    assert many.findings[1].host == HostRef(hostnames=("b6b9f466d63",))
    assert many.findings[1].vuln_id == "1.3.6.1.4.1.25623.1.0.103549"  # NVT without CVE
    assert many.findings[-1].severity == "medium"  # empty threat, severity 4.0


def test_openvas_csv_row() -> None:
    first = _parse("openvas/defectdojo_report_using_CVE.csv").findings[0]
    assert first.vuln_id == "CVE-2021-26690" and first.cvss_score == 7.5
    assert first.severity == "high" and first.location.endswith("line 2")
    assert first.tool_ref == "fa492e13-5e42-4a27-8b11-d07ff5281b7f"
    assert first.component is not None and first.component.cpe == "cpe:/a:apache:http_server:2.4.7"


def test_wazuh_both_shapes() -> None:
    old = _parse("wazuh/defectdojo_v4-7_one_finding_with_endpoint.json").findings[0]
    assert old.host == HostRef(ips=("111.111.111.111",), hostnames=("agent-1",))
    assert (old.vuln_id, old.cvss_score, old.severity) == ("CVE-1234-1234", 6.5, "medium")
    new = _parse("wazuh/defectdojo_v4-8_many_findings.json").findings[0]
    assert new.vuln_id == "CVE-2025-27558" and new.host == HostRef(hostnames=("myhost0",))
    assert new.cvss_score == 9.1 and new.severity == "critical"
    assert new.tool_ref is not None and new.tool_ref.endswith("_CVE-2025-27558")


def test_vex_not_affected_with_justification_cisa_case_2() -> None:
    report = _parse("cyclonedx/bomexamples_VEX_CISA_Case-2.json")
    first = report.vex[0]
    assert (first.vuln_id, first.state, first.justification) == (
        "CVE-2020-11896",
        "not_affected",
        "code_not_reachable",
    )
    assert first.bom_ref == "product-ABC" and first.detail is not None
    assert "Linux TCP/IP" in first.detail
    assert {s.state for s in report.vex} == {"not_affected"}


def test_vex_case_8_states_and_bom_links() -> None:
    report = _parse("cyclonedx/bomexamples_VEX_CISA_Case-8.json")
    states = [s.state for s in report.vex if s.vuln_id == "CVE-2021-44228"]
    assert states == ["exploitable", "exploitable", "not_affected", "not_affected", "resolved"]
    assert report.vex[0].response == ("will_not_fix", "update")
    assert {f.vuln_id for f in report.findings} == {"CVE-2021-44228", "CVE-2021-45105"}


def test_cyclonedx_snyk_id_splits_to_cve_and_purl_component() -> None:
    report = _parse("cyclonedx/defectdojo_valid-vulnerability-1.4.json")
    vex = report.vex[0]
    assert vex.vuln_id == "CVE-2018-7489" and vex.component is not None
    assert vex.component.name == "com.fasterxml.jackson.core/jackson-databind"
    log4j = _parse("cyclonedx/defectdojo_log4j.json").findings[0]
    assert log4j.severity == "critical" and log4j.cvss_score == 10
    assert log4j.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"


def test_nmap_vulners() -> None:
    report = _parse("nmap/defectdojo_nmap_script_vulners.xml")
    first = report.findings[0]
    assert (first.vuln_id, first.cvss_score, first.severity) == ("CVE-2018-15919", 5.0, "medium")
    assert first.host == HostRef(ips=("192.168.0.1",))
    assert first.component is not None and first.component.cpe == "cpe:/a:openbsd:openssh:7.4"
    assert first.detail["port"] == "5022/tcp" and first.detail["is_exploit"] is False
