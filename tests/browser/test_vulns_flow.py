"""Issue 3's acceptance path in a real browser: import an Nmap scan through the inventory
wizard, see the new findings with their SSVC decision and explanation, accept a risk with an
expiry, and export the sector risk report as PDF."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from civicshield import vulns
from civicshield.core import Role
from civicshield.runtime import Runtime
from civicshield.vulns.sync import sync_feeds
from tests.browser.conftest import login
from tests.browser.test_accessibility import _audit
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.browser

VULN = SHARED_DATA / "vuln"
KEV_CVE = "CVE-2018-14847"  # MikroTik RouterOS <= 6.42, in CISA KEV


def _nmap(ip: str, mac: str, host: str) -> bytes:
    """A one-host Nmap XML report (constructed): a MikroTik router, OS detected as 6.42."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<nmaprun scanner="nmap" args="nmap -sV -O {ip}" start="1763800000" version="7.94"
 xmloutputversion="1.05">
<host starttime="1763800000" endtime="1763800100">
<status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="{ip}" addrtype="ipv4"/>
<address addr="{mac}" addrtype="mac" vendor="Routerboard.com"/>
<hostnames><hostname name="{host}" type="PTR"/></hostnames>
<ports>
<port protocol="tcp" portid="8291"><state state="open" reason="syn-ack" reason_ttl="64"/>
<service name="unknown" product="MikroTik WinBox" method="probed" conf="10"/></port>
</ports>
<os><osmatch name="MikroTik RouterOS 6.42" accuracy="98" line="1">
<osclass type="router" vendor="MikroTik" osfamily="RouterOS" osgen="6.X" accuracy="98">
<cpe>cpe:/o:mikrotik:routeros:6.42</cpe></osclass></osmatch></os>
</host>
<runstats><finished time="1763800100" timestr="now" elapsed="100" exit="success"/>
<hosts up="1" down="0" total="1"/></runstats>
</nmaprun>
""".encode()


@pytest.fixture
def cve_store(live_runtime: Runtime) -> None:
    if not VULN.is_dir():
        pytest.skip(f"needs the shared vulnerability data at {VULN}")
    report = sync_feeds(live_runtime.settings, from_path=VULN, only=["nvd", "kev"])
    with live_runtime.session() as session:
        vulns.store_report(session, report, clock=live_runtime.clock)


def test_nmap_import_to_findings_accepted_risk_and_pdf_report(
    page: Any, user_factory: Any, cve_store: None, tmp_path: Any
) -> None:
    raw = uuid.uuid4().bytes
    ip = f"10.{raw[0]}.{raw[1]}.{raw[2] or 1}"
    mac = "4c:5e:0c:" + ":".join(f"{b:02x}" for b in raw[3:6])
    host = f"router-{uuid.uuid4().hex[:8]}.city"
    login(page, user_factory(Role.ANALYST))

    # 1. Import the scan through the wizard, with defaults for the new asset.
    page.goto("/assets/import")
    page.get_by_test_id("field-file").set_input_files(
        {"name": "scan.xml", "mimeType": "application/xml", "buffer": _nmap(ip, mac, host)}
    )
    page.get_by_test_id("field-sector").select_option("transport")
    page.get_by_test_id("field-kind").select_option("iot")
    page.get_by_test_id("field-criticality").select_option("4")
    with page.expect_navigation():
        page.get_by_test_id("import-preview").click()
    assert page.get_by_test_id("count-create").inner_text().endswith("1")
    with page.expect_navigation():
        page.get_by_test_id("import-confirm").click()
    assert "new findings" in page.get_by_test_id("import-findings").inner_text()

    # 2. The new finding in the queue, with its decision; then its explanation.
    with page.expect_navigation():
        page.get_by_test_id("import-see-findings").click()
    page.get_by_test_id("filter-q").fill(host.split(".")[0])
    with page.expect_navigation():
        page.get_by_test_id("filter-apply").click()
    row = page.locator("[data-testid^=finding-row-]", has_text=KEV_CVE).first
    assert row.is_visible()
    assert "Act" in row.inner_text() or "Attend" in row.inner_text()
    with page.expect_navigation():
        row.locator("[data-testid^=finding-link-]").click()
    explanation = page.get_by_test_id("explanation").inner_text()
    assert "CISA KEV" in explanation and "Decision:" in explanation
    assert page.get_by_test_id("finding-decision").inner_text().strip()

    # 3. Accept the risk with an expiry and an approver.
    until = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    page.get_by_test_id("field-status").select_option("accepted")
    page.get_by_test_id("field-reason").fill("Router isolated behind an ACL until replacement")
    page.get_by_test_id("field-accepted_until").fill(until)
    page.get_by_test_id("field-approver").fill("CISO")
    with page.expect_navigation():
        page.get_by_test_id("status-save").click()
    facts = page.get_by_test_id("finding-facts").inner_text()
    assert "Accepted until" in facts and "approved by CISO" in facts
    assert "accepted_until" in page.get_by_test_id("history-table").inner_text()

    # 4. Export the sector risk report as PDF.
    page.goto("/vulns/risk")
    with page.expect_download() as download_info:
        page.get_by_test_id("report-pdf").click()
    download = download_info.value
    assert download.suggested_filename.startswith("risk-report-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_vulnerability_pages_are_accessible(
    new_page: Callable[..., Any], user_factory: Any, cve_store: None, scheme: str
) -> None:
    found: dict[str, list[str]] = {}
    page = new_page(bypass_csp=True, color_scheme=scheme)
    login(page, user_factory(Role.ADMIN))
    page.goto("/vulns/findings")
    _audit(page, "findings", found)
    link = page.locator("[data-testid^=finding-link-]").first
    if link.count():
        with page.expect_navigation():
            link.click()
        _audit(page, "finding detail", found)
    for path in ("/vulns/risk", "/vulns/policy", "/vulns/import", "/hunt", "/hunt/quarantine"):
        page.goto(path)
        _audit(page, path, found)
    assert not found, f"{scheme} theme: {found}"
