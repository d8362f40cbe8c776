"""Vulnerability pages: the findings queue (filters, scope, bulk), a finding and its status
form, sector risk with the report, the policy editor and the scanner import.

Data comes from the shared NVD and KEV snapshots (../shared/data/vuln) through the domain
services; without them these tests are skipped.
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from civicshield import assets, vulns
from civicshield.assets import AssetCreate
from civicshield.core import SYSTEM, Role, Sector
from civicshield.runtime import Runtime
from civicshield.vulns.sync import sync_feeds
from tests.conftest import SHARED_DATA
from tests.integration.web.support import csrf_from, post_form

VULN = SHARED_DATA / "vuln"
ROUTER_CPE = "cpe:2.3:o:mikrotik:routeros:6.42:*:*:*:*:*:*:*"  # CVE-2018-14847, in KEV
CMS_CPE = "cpe:2.3:a:dreamer_cms_project:dreamer_cms:4.1.3:*:*:*:*:*:*:*"
ROUTER_CVE = "CVE-2018-14847"


def _asset(rt: Runtime, name: str, sector: str, cpe: str, **kw: Any) -> int:
    data = AssetCreate.model_validate(
        {"name": name, "sector": sector, "kind": "it", "cpe": cpe, **kw}
    )
    with rt.session() as session:
        return assets.create_asset(session, data, actor=SYSTEM, clock=rt.clock).id


@pytest.fixture
def data(runtime: Runtime) -> dict[str, int]:
    """A water router with a KEV finding and a transport CMS with several findings."""
    if not (VULN / "nvd-api2").is_dir() or not (VULN / "kev").is_dir():
        pytest.skip(f"shared vulnerability data not present: {VULN}")
    router = _asset(runtime, "edge-router", "water", ROUTER_CPE, criticality=5)
    cms = _asset(runtime, "bus-cms", "transport", CMS_CPE, criticality=2)
    report = sync_feeds(runtime.settings, from_path=VULN, only=["nvd", "kev"])
    with runtime.session() as session:
        vulns.store_report(session, report, clock=runtime.clock)
        vulns.match_inventory(session, actor=SYSTEM, clock=runtime.clock)
        found = vulns.list_findings(session, vulns.FindingFilter(), clock=runtime.clock)
    by_cve = {f.cve_id: f.id for f in found.items}
    assert ROUTER_CVE in by_cve and found.total > 2
    return {"router": router, "cms": cms, "finding": by_cve[ROUTER_CVE], "total": found.total}


def _rows(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-testid="finding-row-(\d+)"', html)}


def test_queue_lists_filters_and_counts(admin_client: Any, data: dict[str, int]) -> None:
    page = admin_client.get("/vulns/findings")
    assert page.status_code == 200
    assert len(_rows(page.text)) == data["total"]
    assert f"/assets/{data['router']}" in page.text and 'data-testid="kev"' in page.text
    assert 'data-testid="overdue"' in page.text  # the KEV due date is long past
    assert 'data-testid="nav-vulnerabilities"' in page.text
    counts = re.search(r'data-testid="count-act">.*?stat-value">(\d+)<', page.text)
    assert counts and counts.group(1) == "1"
    kev = admin_client.get("/vulns/findings?kev=yes")
    assert _rows(kev.text) == {data["finding"]}
    water = admin_client.get(
        "/vulns/findings?sector=transport",
        headers={"HX-Request": "true", "HX-Target": "findings-table"},
    )
    assert "<html" not in water.text and data["finding"] not in _rows(water.text)
    assert len(_rows(water.text)) == data["total"] - 1
    text = admin_client.get("/vulns/findings?q=edge-router").text
    assert _rows(text) == {data["finding"]}
    assert _rows(admin_client.get("/vulns/findings?decision=act").text) == {data["finding"]}


def test_sector_operator_sees_only_their_sector(
    as_role: Callable[..., Any], data: dict[str, int]
) -> None:
    operator = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.TRANSPORT])
    rows = _rows(operator.get("/vulns/findings").text)
    assert rows and data["finding"] not in rows
    assert operator.get(f"/vulns/findings/{data['finding']}").status_code == 404
    assert operator.get(f"/vulns/assets/{data['router']}/findings").status_code == 404
    risk = operator.get("/vulns/risk").text
    assert 'data-testid="heat-row-transport"' in risk and "heat-row-water" not in risk


def test_detail_shows_decision_cve_and_evidence(admin_client: Any, data: dict[str, int]) -> None:
    page = admin_client.get(f"/vulns/findings/{data['finding']}")
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="explanation"' in text and "Exploitation: active" in text
    assert "MikroTik RouterOS" in text and "Apply updates per vendor instructions." in text
    assert 'data-testid="cvss-table"' in text and "nvd@nist.gov" in text
    assert 'data-testid="evidence-matcher"' in text and "routeros" in text
    assert 'data-testid="status-form"' in text


def test_status_change_validation_and_accept(admin_client: Any, data: dict[str, int]) -> None:
    url = f"/vulns/findings/{data['finding']}"
    bad = post_form(admin_client, url, url, {"status": "accepted", "reason": "vendor late"})
    assert bad.status_code == 422
    assert 'data-testid="error-accepted_until"' in bad.text
    assert 'data-testid="error-approver"' in bad.text
    past = post_form(
        admin_client,
        url,
        url,
        {"status": "accepted", "reason": "r", "accepted_until": "2020-01-01", "approver": "CISO"},
    )
    assert past.status_code == 422 and "the expiry must be after today" in past.text
    fp = post_form(admin_client, url, url, {"status": "false_positive", "reason": ""})
    assert fp.status_code == 422 and 'data-testid="error-reason"' in fp.text
    until = (date(2026, 11, 22) + timedelta(days=30)).isoformat()
    ok = post_form(
        admin_client,
        url,
        url,
        {"status": "accepted", "reason": "segmented", "accepted_until": until, "approver": "CISO"},
    )
    assert ok.status_code == 303
    page = admin_client.get(url).text
    assert "approved by CISO" in page and 'data-testid="history-table"' in page


def test_bulk_change(admin_client: Any, data: dict[str, int]) -> None:
    listing = admin_client.get("/vulns/findings?sector=transport")
    ids = sorted(_rows(listing.text))[:2]
    body = {"csrf_token": csrf_from(listing.text), "ids": [str(i) for i in ids]}
    body.update(status="in_progress", next="/vulns/findings?sector=transport")
    done = admin_client.post("/vulns/findings/bulk", data=body, follow_redirects=False)
    assert (
        done.status_code == 303 and done.headers["location"] == "/vulns/findings?sector=transport"
    )
    after = admin_client.get("/vulns/findings?status=in_progress").text
    assert _rows(after) == set(ids)
    empty = {"csrf_token": csrf_from(listing.text), "status": "fixed"}
    refused = admin_client.post("/vulns/findings/bulk", data=empty, follow_redirects=False)
    assert refused.status_code == 422 and 'data-testid="bulk-error"' in refused.text


def test_viewer_cannot_change_and_csrf_is_checked(
    as_role: Callable[..., Any], admin_client: Any, data: dict[str, int]
) -> None:
    viewer = as_role(Role.VIEWER)
    url = f"/vulns/findings/{data['finding']}"
    page = viewer.get(url)
    assert page.status_code == 200 and 'data-testid="status-form"' not in page.text
    denied = viewer.post(url, data={"csrf_token": csrf_from(page.text), "status": "fixed"})
    assert denied.status_code == 403
    forged = admin_client.post(url, data={"status": "fixed", "csrf_token": "nope"})
    assert forged.status_code == 403 and "Form expired or forged" in forged.text
    assert "fixed" not in admin_client.get(url).text.split('data-testid="history"')[1]


def test_risk_page_heat_map_and_snapshot(admin_client: Any, data: dict[str, int]) -> None:
    page = admin_client.get("/vulns/risk")
    assert page.status_code == 200
    assert 'data-testid="heat-water-critical"' in page.text
    cell = re.search(
        r'class="num heat heat-(\d)" data-testid="heat-water-critical">(\d+)<', page.text
    )
    assert cell and cell.group(2) == "1" and cell.group(1) != "0"
    assert 'data-testid="trend-empty"' in page.text
    snap = post_form(admin_client, "/vulns/risk", "/vulns/risk/snapshot")
    assert snap.status_code == 303
    again = admin_client.get("/vulns/risk").text
    assert 'data-testid="trend-chart"' in again and 'data-testid="trend-table"' in again


def test_report_html_in_french(admin_client: Any, data: dict[str, int]) -> None:
    html = admin_client.get("/vulns/risk/report.html?lang=fr")
    assert html.status_code == 200 and 'lang="fr' in html.text
    # Dates are written in French (the catalogue's report strings may still be English).
    assert "22 novembre 2026" in html.text
    assert "style-src 'unsafe-inline'" in html.headers["content-security-policy"]
    assert admin_client.get("/vulns/risk/report.html?lang=xx").status_code == 422


def test_report_pdf_download(admin_client: Any, data: dict[str, int]) -> None:
    pdf = admin_client.get("/vulns/risk/report.pdf?lang=es")
    if pdf.status_code == 503:
        pytest.skip("WeasyPrint cannot run here (Pango missing): " + pdf.text[:200])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        pdf.headers["content-disposition"] == 'attachment; filename="risk-report-2026-11-22-es.pdf"'
    )


def test_policy_save_errors_and_reassess(admin_client: Any, data: dict[str, int]) -> None:
    page = admin_client.get("/vulns/policy")
    assert page.status_code == 200 and 'data-testid="policy-version-1"' in page.text
    text = re.search(r'data-testid="field-policy">(.*?)</textarea>', page.text, re.S)
    assert text
    policy = json.loads(html_lib.unescape(text.group(1)))
    broken = json.dumps({**policy, "sla": {**policy["sla"], "days": {"act": "soon"}}})
    bad = post_form(admin_client, "/vulns/policy", "/vulns/policy", {"policy": broken})
    assert bad.status_code == 422 and "sla.days" in bad.text
    syntax = post_form(admin_client, "/vulns/policy", "/vulns/policy", {"policy": "{\n  1"})
    assert syntax.status_code == 422 and "line 2" in syntax.text
    # Every asset of criticality 2 now counts as high mission impact: decisions move.
    mission = {
        **policy["mission"],
        "by_criticality": {**policy["mission"]["by_criticality"], "2": "high"},
    }
    changed = json.dumps({**policy, "mission": mission})
    ok = post_form(
        admin_client, "/vulns/policy", "/vulns/policy", {"policy": changed, "note": "longer"}
    )
    assert ok.status_code == 303 and "saved=2" in ok.headers["location"]
    assert not ok.headers["location"].endswith("changed=0")
    after = admin_client.get(ok.headers["location"]).text
    assert 'data-testid="policy-saved"' in after and 'data-testid="policy-version-2"' in after


def test_policy_needs_its_permission(as_role: Callable[..., Any], data: dict[str, int]) -> None:
    assert as_role(Role.VIEWER).get("/vulns/policy").status_code == 403


def test_scan_import_and_match(admin_client: Any, data: dict[str, int]) -> None:
    sample = VULN / "scanner-samples" / "grype" / "defectdojo_check_all_fields.json"
    if not sample.is_file():
        pytest.skip(f"scanner sample not present: {sample}")
    form = admin_client.get("/vulns/import")
    assert form.status_code == 200 and f'value="{data["cms"]}"' in form.text
    body = {"csrf_token": csrf_from(form.text), "target": str(data["cms"])}
    files = {"file": (sample.name, sample.read_bytes(), "application/json")}
    done = admin_client.post("/vulns/import", data=body, files=files)
    assert done.status_code == 200, done.text
    assert 'data-testid="import-summary"' in done.text
    created = re.search(r'data-testid="import-created">(\d+)<', done.text)
    assert created and int(created.group(1)) > 0
    junk = {"file": ("x.json", b"{not json", "application/json")}
    bad = admin_client.post("/vulns/import", data=body, files=junk)
    assert bad.status_code == 422 and "x.json" in bad.text
    match = post_form(admin_client, "/vulns/findings", "/vulns/match")
    assert match.status_code == 200 and 'data-testid="match-summary"' in match.text


def test_asset_fragment(admin_client: Any, data: dict[str, int]) -> None:
    frag = admin_client.get(
        f"/vulns/assets/{data['router']}/findings", headers={"HX-Request": "true"}
    )
    assert frag.status_code == 200 and "<html" not in frag.text
    assert f'data-testid="asset-finding-{data["finding"]}"' in frag.text


def test_detail_says_when_cisa_removed_the_kev_entry(
    admin_client: Any, data: dict[str, int], runtime: Runtime, tmp_path: Any
) -> None:
    doc = json.loads((VULN / "kev" / "known_exploited_vulnerabilities.json").read_bytes())
    doc["vulnerabilities"] = [v for v in doc["vulnerabilities"] if v["cveID"] != ROUTER_CVE]
    doc["count"] = len(doc["vulnerabilities"])
    path = tmp_path / "known_exploited_vulnerabilities.json"
    path.write_text(json.dumps(doc))
    report = sync_feeds(runtime.settings, from_path=path, only=["kev"])
    with runtime.session() as session:
        vulns.store_report(session, report, clock=runtime.clock)
    page = admin_client.get(f"/vulns/findings/{data['finding']}")
    kev = re.search(r'data-testid="cve-kev">(.*?)</dd>', page.text, re.S)
    assert kev and "Removed from the CISA KEV catalog" in kev.group(1)
    assert "Required action" not in kev.group(1)
