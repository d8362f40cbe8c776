"""`/api/v1/incidents/{id}/evidence`: upload, list, download headers, tamper detection in the
JSON, transfer, the size limit, and each role's limits tried through the API."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from civicshield.core import Role, Sector
from civicshield.core.settings import Settings
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller
from tests.conftest import make_settings

LIMIT = 300_000
DATA = bytes(range(256)) * 1000  # 256,000 bytes


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url=db_url, evidence_max_bytes=LIMIT)


def new_case(client: TestClient, h: dict[str, str], sector: str = "water") -> int:
    made = client.post(
        "/api/v1/incidents", json={"title": "Ransom", "sectors": [sector]}, headers=h
    )
    return int(made.json()["id"])


def upload(client: TestClient, h: dict[str, str], case_id: int, data: bytes = DATA) -> object:
    return client.post(
        f"/api/v1/incidents/{case_id}/evidence",
        files={"file": ("rapport é.html", data, "text/html")},
        data={"description": "ransom note"},
        headers=h,
    )


def test_upload_list_download_and_tampering(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    case_id = new_case(client, h)
    made = upload(client, h, case_id)
    assert made.status_code == 201, made.text  # type: ignore[attr-defined]
    piece = made.json()  # type: ignore[attr-defined]
    assert made.headers["Location"] == f"/api/v1/incidents/{case_id}/evidence/{piece['id']}"  # type: ignore[attr-defined]
    assert piece["sha256"] == hashlib.sha256(DATA).hexdigest() and piece["size"] == len(DATA)
    assert piece["integrity"] == "unchecked" and piece["custody"][0]["action"] == "upload"
    got = client.get(f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/content", headers=h)
    assert got.status_code == 200 and got.content == DATA
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"rapport__.html\"; filename*=UTF-8''rapport%20%C3%A9.html"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "sandbox"
    ok = client.post(f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/verify", headers=h)
    assert ok.json()["intact"] is True
    blob = runtime.settings.data_dir / "evidence"
    (path,) = [p for p in blob.iterdir() if not p.name.startswith(".")]
    raw = bytearray(path.read_bytes())
    raw[1000] ^= 0x01
    path.write_bytes(bytes(raw))
    bad = client.post(f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/verify", headers=h)
    assert bad.json()["intact"] is False and "authentication failed" in bad.json()["problem"]
    refused = client.get(f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/content", headers=h)
    assert refused.status_code == 409 and "failed verification" in refused.json()["detail"]
    listed = client.get(f"/api/v1/incidents/{case_id}/evidence", headers=h).json()
    assert listed[0]["integrity"] == "tampered" and "authentication" in listed[0]["problem"]
    assert [c["action"] for c in listed[0]["custody"]] == [
        "upload", "download", "verify", "verify", "verify",
    ]  # fmt: skip
    path.unlink()
    gone = client.post(f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/verify", headers=h)
    assert "missing" in gone.json()["problem"]


def test_transfer_and_size_limit(client: TestClient, admin_caller: Caller) -> None:
    h = admin_caller.headers
    case_id = new_case(client, h)
    piece = upload(client, h, case_id).json()  # type: ignore[attr-defined]
    moved = client.post(
        f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/transfer",
        json={"to": "Det. Roy", "note": "bag 7"},
        headers=h,
    )
    assert moved.json()["custodian"] == "Det. Roy"
    empty = client.post(
        f"/api/v1/incidents/{case_id}/evidence/{piece['id']}/transfer", json={"to": ""}, headers=h
    )
    assert empty.status_code == 422 and empty.json()["errors"][0]["loc"] == ["body", "to"]
    big = upload(client, h, case_id, b"x" * (LIMIT + 1))
    assert big.status_code == 413  # type: ignore[attr-defined]
    assert f"{LIMIT} bytes" in big.json()["detail"]  # type: ignore[attr-defined]
    none = client.post(f"/api/v1/incidents/{case_id}/evidence", data={"x": "1"}, headers=h)
    assert none.status_code == 422
    assert len(client.get(f"/api/v1/incidents/{case_id}/evidence", headers=h).json()) == 1


def test_role_rules_hold_through_the_api(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    h = admin_caller.headers
    water, transit = new_case(client, h), new_case(client, h, "transport")
    eid = upload(client, h, water).json()["id"]  # type: ignore[attr-defined]
    base = f"/api/v1/incidents/{water}/evidence"
    viewer = caller(runtime, "vera", Role.VIEWER)
    assert client.get(base, headers=viewer.headers).json()[0]["id"] == eid  # may read the list
    assert client.get(f"{base}/{eid}", headers=viewer.headers).status_code == 200
    for method, path, kw in (
        ("post", base, {"files": {"file": ("a", b"a")}}),
        ("get", f"{base}/{eid}/content", {}),
        ("post", f"{base}/{eid}/verify", {}),
        ("post", f"{base}/{eid}/transfer", {"json": {"to": "vera"}}),
    ):
        refused = getattr(client, method)(path, headers=viewer.headers, **kw)
        assert refused.status_code == 403, (method, path)
    operator = caller(runtime, "wes", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    other = f"/api/v1/incidents/{transit}/evidence"
    assert client.get(other, headers=operator.headers).status_code == 404
    assert upload(client, operator.headers, transit).status_code == 404  # type: ignore[attr-defined]
    assert client.get(f"{other}/{eid}", headers=operator.headers).status_code == 404
    assert client.get(f"{base}/{eid}/content", headers=operator.headers).status_code == 200
    responder = caller(runtime, "rita", Role.RESPONDER)
    assert upload(client, responder.headers, water).status_code == 201  # type: ignore[attr-defined]
