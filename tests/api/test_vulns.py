"""`/api/v1/vulns`: findings list/detail/status/bulk, scanner import, matching after an
inventory import, policy, risk and the report; permissions and sector scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from civicshield import vulns
from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from civicshield.vulns.sync import sync_feeds
from tests.api.conftest import Caller, TestClient, caller
from tests.conftest import NOW, SHARED_DATA

VULN = SHARED_DATA / "vuln"
pytestmark = pytest.mark.skipif(not VULN.is_dir(), reason=f"needs shared data at {VULN}")
CSV = (
    "name,sector,kind,ips,criticality,internet_exposed,cpe\n"
    "router-t,transport,iot,10.0.0.1,4,yes,cpe:2.3:o:mikrotik:routeros:6.42:*:*:*:*:*:*:*\n"
    "router-w,water,iot,10.0.0.2,2,no,cpe:2.3:o:mikrotik:routeros:6.40:*:*:*:*:*:*:*\n"
)


@pytest.fixture
def feeds(runtime: Runtime) -> None:
    report = sync_feeds(runtime.settings, from_path=VULN, only=["nvd", "kev"])
    with runtime.session() as session:
        vulns.store_report(session, report, clock=runtime.clock)


def _import_inventory(client: TestClient, admin: Caller) -> None:
    h = {**admin.headers, "Content-Type": "text/csv"}
    done = client.post("/api/v1/assets/import?dry_run=false", content=CSV, headers=h)
    assert done.status_code == 200, done.text


def test_an_inventory_import_creates_findings_with_decisions(
    client: TestClient, admin_caller: Caller, feeds: None
) -> None:
    _import_inventory(client, admin_caller)
    page = client.get(
        "/api/v1/vulns/findings?cve_id=CVE-2018-14847", headers=admin_caller.headers
    ).json()
    assert page["total"] == 2
    first = page["items"][0]
    # The exposed, more critical transport router comes first.
    assert first["asset_name"] == "router-t" and first["decision"] == "act"
    assert first["kev"] and first["overdue"] and first["due_date"] == "2022-06-01"
    assert any("CISA KEV" in line for line in first["explanation"])
    detail = client.get(
        f"/api/v1/vulns/findings/{first['id']}", headers=admin_caller.headers
    ).json()
    assert detail["cve"]["kev_date_added"] == "2021-12-01"
    assert detail["evidence"]["matcher"]["asset_cpe"].startswith("cpe:2.3:o:mikrotik:routeros")
    assert client.get("/api/v1/vulns/cves/cve-2018-14847", headers=admin_caller.headers).json()[
        "cve_id"
    ] == ("CVE-2018-14847")


def test_status_changes_validate_and_bulk_is_all_or_nothing(
    client: TestClient, admin_caller: Caller, feeds: None
) -> None:
    _import_inventory(client, admin_caller)
    h = admin_caller.headers
    ids = [f["id"] for f in client.get("/api/v1/vulns/findings", headers=h).json()["items"]]
    url = f"/api/v1/vulns/findings/{ids[0]}"
    missing = client.patch(url, json={"status": "accepted", "reason": "ACL"}, headers=h)
    assert missing.status_code == 422
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "accepted_until" in missing.text
    until = (NOW + timedelta(days=10)).date().isoformat()
    ok = client.patch(
        url, json={"status": "accepted", "reason": "ACL", "accepted_until": until}, headers=h
    )
    assert ok.status_code == 200 and "root" in ok.json()["approved_by"]
    assert not ok.json()["overdue"]
    bulk = {"ids": [*ids, 999_999], "change": {"status": "in_progress"}}
    refused = client.post("/api/v1/vulns/findings/status", json=bulk, headers=h)
    assert refused.status_code == 404
    states = {f["status"] for f in client.get("/api/v1/vulns/findings", headers=h).json()["items"]}
    assert "in_progress" not in states  # nothing of the refused bulk change was kept
    bulk["ids"] = ids
    assert client.post("/api/v1/vulns/findings/status", json=bulk, headers=h).json() == {
        "changed": len(ids)
    }


def test_scopes_and_permissions(
    runtime: Runtime,
    client: TestClient,
    admin_caller: Caller,
    viewer_caller: Caller,
    feeds: None,
) -> None:
    _import_inventory(client, admin_caller)
    op = caller(runtime, "olga", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    listed = client.get("/api/v1/vulns/findings", headers=op.headers).json()
    assert {f["sector"] for f in listed["items"]} == {"water"}
    all_ids = [
        f["id"]
        for f in client.get("/api/v1/vulns/findings", headers=admin_caller.headers).json()["items"]
    ]
    hidden = next(i for i in all_ids if i not in {f["id"] for f in listed["items"]})
    assert client.get(f"/api/v1/vulns/findings/{hidden}", headers=op.headers).status_code == 404
    change = {"status": "in_progress"}
    viewer = client.patch(
        f"/api/v1/vulns/findings/{all_ids[0]}", json=change, headers=viewer_caller.headers
    )
    assert viewer.status_code == 403
    policy = client.put("/api/v1/vulns/policy", json={"data": {}}, headers=op.headers)
    assert policy.status_code == 403


def test_policy_versions_and_reassessment(client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    current = client.get("/api/v1/vulns/policy", headers=h).json()
    assert current["version"] == 1
    assert "properties" in client.get("/api/v1/vulns/policy/schema", headers=h).json()
    bad = {**current["data"], "sla": {**current["data"]["sla"], "days": {"act": -3}}}
    refused = client.put("/api/v1/vulns/policy", json={"data": bad, "note": "x"}, headers=h)
    assert refused.status_code == 422 and "sla" in refused.text
    same = client.put("/api/v1/vulns/policy", json={"data": current["data"]}, headers=h)
    assert same.status_code == 422 and "nothing to save" in same.text
    data = current["data"]
    data["exploitation"]["epss_poc_threshold"] = 0.05
    saved = client.put("/api/v1/vulns/policy", json={"data": data, "note": "lower"}, headers=h)
    assert saved.status_code == 200, saved.text
    assert saved.json()["policy"]["version"] == 2
    versions = client.get("/api/v1/vulns/policy/versions", headers=h).json()
    assert [v["version"] for v in versions] == [2, 1]


def test_scanner_import_and_errors(client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    asset = client.post(
        "/api/v1/assets", json={"name": "app", "sector": "governance", "kind": "it"}, headers=h
    ).json()
    sample = VULN / "scanner-samples" / "grype" / "defectdojo_check_all_fields.json"
    files = {"file": (sample.name, sample.read_bytes(), "application/json")}
    first = client.post(f"/api/v1/vulns/imports?asset_id={asset['id']}", files=files, headers=h)
    assert first.status_code == 200, first.text
    assert first.json()["tool"] == "grype" and first.json()["created"] > 0
    again = client.post(f"/api/v1/vulns/imports?asset_id={asset['id']}", files=files, headers=h)
    assert again.json()["created"] == 0 and again.json()["updated"] == 0
    broken = client.post(
        "/api/v1/vulns/imports",
        content=b'{"matches": [',
        headers={**h, "Content-Type": "application/json"},
    )
    assert broken.status_code == 422 and "line 1" in broken.text


def test_risk_summary_trend_and_report(
    client: TestClient, admin_caller: Caller, feeds: None
) -> None:
    _import_inventory(client, admin_caller)
    h = admin_caller.headers
    risk = client.get("/api/v1/vulns/risk", headers=h).json()
    assert {s["key"] for s in risk["sectors"]} >= {"transport", "water"}
    assert client.post("/api/v1/vulns/risk/snapshots", headers=h).status_code == 200
    trend = client.get("/api/v1/vulns/risk/trend?days=30", headers=h).json()
    assert trend
    html = client.get("/api/v1/vulns/risk/report?format=html&lang=fr", headers=h)
    assert html.status_code == 200 and 'lang="fr-CA"' in html.text
    pdf = client.get("/api/v1/vulns/risk/report?lang=es", headers=h)
    if pdf.status_code == 503:
        pytest.skip("no PDF renderer on this machine (Pango missing)")
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
