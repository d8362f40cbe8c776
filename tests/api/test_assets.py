"""`/api/v1/assets`: create, list, detail with history, patch, CSV import, scoping."""

from __future__ import annotations

from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller

CAM = {"name": "cam-1", "sector": "transport", "kind": "iot", "macs": ["AA-BB-CC-DD-EE-01"]}
CSV = "hostnames,sector,kind,version\npump-1,water,ot,1.0\ncam-9,transport,iot,2.0\n"


def test_create_get_patch_with_history(client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    created = client.post("/api/v1/assets", json=CAM, headers=h)
    assert created.status_code == 201, created.text
    url = created.headers["Location"]
    assert created.json()["macs"] == ["aa:bb:cc:dd:ee:01"]
    patched = client.patch(url, json={"version": "2.0", "lifecycle": "retired"}, headers=h)
    assert patched.status_code == 200 and patched.json()["lifecycle"] == "retired"
    detail = client.get(url, headers=h).json()
    assert {c["field"] for c in detail["history"]} == {"created", "version", "lifecycle"}
    bad = client.post("/api/v1/assets", json={**CAM, "cpe": "cpe:/a:x"}, headers=h)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/assets/999", headers=h).status_code == 404


def test_import_dry_run_then_apply_then_again(client: TestClient, admin_caller: Caller) -> None:
    h = {**admin_caller.headers, "Content-Type": "text/csv"}
    dry = client.post("/api/v1/assets/import?dry_run=true", content=CSV, headers=h).json()
    assert [r["action"] for r in dry["rows"]] == ["create", "create"] and not dry["applied"]
    assert client.get("/api/v1/assets", headers=h).json()["total"] == 0
    done = client.post("/api/v1/assets/import?dry_run=false", content=CSV, headers=h).json()
    assert done["applied"] and all(r["asset_id"] for r in done["rows"])
    files = {"file": ("city.csv", CSV.encode(), "text/csv")}
    again = client.post(
        "/api/v1/assets/import?dry_run=false", files=files, headers=admin_caller.headers
    ).json()
    assert [r["action"] for r in again["rows"]] == ["unchanged", "unchanged"]
    assert again["source"] == "city.csv"
    refused = client.post("/api/v1/assets/import", content=b"\xff\xfe", headers=h)
    assert refused.status_code == 422


def test_sector_operator_sees_only_their_sectors(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    water = client.post(
        "/api/v1/assets",
        json={"name": "plc", "sector": "water", "kind": "ot"},
        headers=admin_caller.headers,
    ).json()
    client.post("/api/v1/assets", json=CAM, headers=admin_caller.headers)
    op = caller(runtime, "olga", Role.SECTOR_OPERATOR, sectors=[Sector.TRANSPORT])
    listed = client.get("/api/v1/assets", headers=op.headers).json()
    assert [a["name"] for a in listed["items"]] == ["cam-1"]
    assert client.get(f"/api/v1/assets/{water['id']}", headers=op.headers).status_code == 404
    moved = client.post(
        "/api/v1/assets", json={"name": "x", "sector": "water", "kind": "ot"}, headers=op.headers
    )
    assert moved.status_code == 403


def test_permissions(client: TestClient, viewer_caller: Caller, runtime: Runtime) -> None:
    assert client.get("/api/v1/assets", headers=viewer_caller.headers).status_code == 200
    assert client.post("/api/v1/assets", json=CAM, headers=viewer_caller.headers).status_code == 403
    privacy = caller(runtime, "pia", Role.PRIVACY_OFFICER)
    assert client.get("/api/v1/assets", headers=privacy.headers).status_code == 403
    assert client.get("/api/v1/assets").status_code == 401


def test_import_sniffs_nmap_with_defaults_and_lists_software(
    client: TestClient, admin_caller: Caller
) -> None:
    nmap = b"""<?xml version="1.0"?>
<nmaprun scanner="nmap">
<host><status state="up"/><address addr="10.7.0.9" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="22"><state state="open"/>
<service name="ssh" product="OpenSSH" version="7.4"><cpe>cpe:/a:openbsd:openssh:7.4</cpe></service>
</port></ports></host>
<host><status state="down"/><address addr="10.7.0.10" addrtype="ipv4"/></host>
</nmaprun>"""
    h = {**admin_caller.headers, "content-type": "application/xml"}
    url = "/api/v1/assets/import?dry_run=false&sector=water&zone=scada&kind=ot&filename=scan.xml"
    done = client.post(url, content=nmap, headers=h).json()
    assert done["format"] == "nmap" and done["skipped"] == 1 and done["applied"] is True
    row = done["rows"][0]
    assert row["action"] == "create" and row["software_plan"]["add"][0]["key"] == "service:tcp/22"
    software = client.get(
        f"/api/v1/assets/{row['asset_id']}/software", headers=admin_caller.headers
    ).json()
    assert software[0]["cpe"] == "cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*"
    again = client.post(url, content=nmap, headers=h).json()
    assert [r["action"] for r in again["rows"]] == ["unchanged"]


def test_import_refuses_bad_xml_and_vex_with_place(
    client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    bad = client.post(
        "/api/v1/assets/import?filename=scan.xml", content=b"<nmaprun>\n<host>", headers=h
    )
    assert bad.status_code == 422 and "scan.xml:2:" in bad.text
    vex = b'{"bomFormat": "CycloneDX", "specVersion": "1.4", "vulnerabilities": [{"id": "x"}]}'
    refused = client.post("/api/v1/assets/import?filename=vex.json", content=vex, headers=h)
    assert refused.status_code == 422 and "civicshield vulns import" in refused.text
