"""The /taxii2/ endpoints through the app: status codes (200/202/400/401/403/404/406/413/415/
422), TAXII media types and error messages, HTTP Basic and API-token callers."""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from civicshield.accounts import Permission
from civicshield.core import Role
from civicshield.intel import taxii
from civicshield.runtime import Runtime
from tests.api.conftest import bearer, caller, make_token
from tests.conftest import make_user
from tests.unit.intel.conftest import indicator
from tests.unit.intel.taxii.conftest import (
    HIGH_VALUE,
    INDICATOR,
    READ_ONLY,
    ROOT,
    SECRET,
    WRITABLE,
    seed_medallion,
)

TAXII = "application/taxii+json;version=2.1"
BASE = f"/taxii2/{ROOT}/collections"


def basic(name: str = "admin", password: str = "Password0") -> dict[str, str]:  # noqa: S107
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Accept": TAXII}


POST = {**basic(), "Content-Type": TAXII}


def taxii_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TAXII
    body: dict[str, Any] = response.json()
    assert body["http_status"] == str(status)
    assert body["title"] and body["description"]
    assert "Traceback" not in response.text
    return body


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    return seed_medallion(runtime)


@pytest.fixture
def taxii_client(seeded: Runtime, client: TestClient) -> TestClient:
    return client


def test_discovery_root_collections_and_objects(taxii_client: TestClient) -> None:
    found = taxii_client.get("/taxii2/", headers=basic())
    assert found.status_code == 200 and found.headers["content-type"] == TAXII
    assert found.json()["api_roots"][2] == f"http://testserver/taxii2/{ROOT}/"
    assert found.json()["default"] == f"http://testserver/taxii2/{ROOT}/"
    root = taxii_client.get(f"/taxii2/{ROOT}/", headers=basic()).json()
    assert root["versions"] == [TAXII] and root["max_content_length"] == 9765625
    listed = taxii_client.get(f"{BASE}/", headers=basic()).json()["collections"]
    assert len(listed) == 5
    one = taxii_client.get(f"{BASE}/{READ_ONLY}/", headers=basic()).json()
    assert (one["can_read"], one["can_write"]) == (True, False)
    page = taxii_client.get(f"{BASE}/{HIGH_VALUE}/objects/", params={"limit": 2}, headers=basic())
    assert page.status_code == 200
    body = page.json()
    assert body["more"] is True and len(body["objects"]) == 2 and body["next"]
    assert page.headers["x-taxii-date-added-first"] == "2014-05-08T09:00:00.000000Z"
    assert page.headers["x-taxii-date-added-last"] == "2016-11-01T03:04:05.000000Z"
    rest = taxii_client.get(
        f"{BASE}/{HIGH_VALUE}/objects/", params={"next": body["next"]}, headers=basic()
    ).json()
    assert rest["more"] is False and "next" not in rest and len(rest["objects"]) == 3
    versions = taxii_client.get(
        f"{BASE}/{HIGH_VALUE}/objects/{INDICATOR}/versions/", headers=basic()
    )
    assert len(versions.json()["versions"]) == 3
    manifest = taxii_client.get(f"{BASE}/{HIGH_VALUE}/manifest/", headers=basic()).json()
    assert {"id", "date_added", "version", "media_type"} == set(manifest["objects"][0])


def test_add_objects_is_202_with_a_status_and_needs_no_csrf_or_cookie(
    taxii_client: TestClient,
) -> None:
    assert not taxii_client.cookies
    obj = indicator("[ipv4-addr:value = '203.0.113.5']")
    posted = taxii_client.post(f"{BASE}/{WRITABLE}/objects/", headers=POST, json={"objects": [obj]})
    assert posted.status_code == 202 and posted.headers["content-type"] == TAXII
    status = posted.json()
    assert (status["status"], status["success_count"]) == ("complete", 1)
    again = taxii_client.get(f"/taxii2/{ROOT}/status/{status['id']}/", headers=basic())
    assert again.json() == status
    got = taxii_client.get(f"{BASE}/{WRITABLE}/objects/{obj['id']}/", headers=basic()).json()
    assert got["objects"] == [obj]
    deleted = taxii_client.delete(f"{BASE}/{WRITABLE}/objects/{obj['id']}/", headers=basic())
    assert deleted.status_code == 200
    taxii_error(taxii_client.get(f"{BASE}/{WRITABLE}/objects/{obj['id']}/", headers=basic()), 404)


def test_401_with_the_basic_challenge(taxii_client: TestClient) -> None:
    for headers in (
        {"Accept": TAXII},
        basic(password="wrong"),
        basic(name="nobody"),
        {"Authorization": "Basic !!!notbase64", "Accept": TAXII},
        {"Authorization": "Bearer cs_not_a_token", "Accept": TAXII},
    ):
        response = taxii_client.get("/taxii2/", headers=headers)
        taxii_error(response, 401)
        assert response.headers["www-authenticate"] == 'Basic realm="CivicShield TAXII"'


def test_403_404_and_400(taxii_client: TestClient) -> None:
    taxii_error(taxii_client.get(f"{BASE}/{SECRET}/objects/", headers=basic()), 403)
    obj = {"objects": [indicator("[ipv4-addr:value = '203.0.113.6']")]}
    taxii_error(taxii_client.post(f"{BASE}/{READ_ONLY}/objects/", headers=POST, json=obj), 403)
    for path in (
        "/taxii2/nope/",
        f"{BASE}/00000000-0000-0000-0000-000000000000/",
        f"{BASE}/{HIGH_VALUE}/objects/indicator--00000000-0000-0000-0000-000000000000/",
        f"/taxii2/{ROOT}/status/00000000-0000-0000-0000-000000000000/",
        "/taxii2/no/such/path/at/all/",
    ):
        taxii_error(taxii_client.get(path, headers=basic()), 404)
    for params in ({"added_after": "yesterday"}, {"next": "garbage"}, {"limit": "-1"}):
        body = taxii_error(
            taxii_client.get(f"{BASE}/{HIGH_VALUE}/objects/", params=params, headers=basic()), 400
        )
        assert next(iter(params)) in body["description"]


def test_406_unless_the_client_accepts_taxii_2_1(taxii_client: TestClient) -> None:
    auth = {"Authorization": basic()["Authorization"]}
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        taxii_error(taxii_client.get("/taxii2/", headers={**auth, "Accept": accept}), 406)
    for accept in (
        None,
        "*/*",
        "application/taxii+json",
        "text/html, application/taxii+json; version=2.1",
    ):
        headers = auth if accept is None else {**auth, "Accept": accept}
        assert taxii_client.get("/taxii2/", headers=headers).status_code == 200, accept


def test_415_and_422_on_post(taxii_client: TestClient) -> None:
    url = f"{BASE}/{WRITABLE}/objects/"
    for ctype in (
        "application/json",
        "application/stix+json;version=2.1",
        "application/taxii+json;version=2.0",
    ):
        taxii_error(
            taxii_client.post(url, headers={**POST, "Content-Type": ctype}, content=b"{}"), 415
        )
    for body in (b"not json", b"[]", b'{"objects": {}}', b'{"more": false}'):
        taxii_error(taxii_client.post(url, headers=POST, content=body), 422)


def test_413_over_the_roots_max_content_length(seeded: Runtime, client: TestClient) -> None:
    now = seeded.clock.now()
    with seeded.session() as session:
        taxii.create_api_root(session, "tiny", "Tiny", now=now, max_content_length=1024)
        small = taxii.create_collection(session, "tiny", "Small", now=now, can_write=True)
    assert client.get("/taxii2/tiny/", headers=basic()).json()["max_content_length"] == 1024
    objects = [indicator(f"[ipv4-addr:value = '203.0.113.{i}']") for i in range(10)]
    content = json.dumps({"objects": objects}).encode()
    assert len(content) > 1024
    url = f"/taxii2/tiny/collections/{small.uuid}/objects/"
    body = taxii_error(client.post(url, headers=POST, content=content), 413)
    assert "1024" in body["description"]
    assert client.post(url, headers=POST, json={"objects": objects[:1]}).status_code == 202


def test_api_tokens_read_with_intel_read_and_write_with_intel_manage(
    seeded: Runtime,
    client: TestClient,
) -> None:
    viewer = caller(seeded, "vera", Role.VIEWER)
    analyst = caller(seeded, "ana", Role.ANALYST)
    url = f"{BASE}/{SECRET}/objects/"
    obj = {"objects": [indicator("[ipv4-addr:value = '203.0.113.7']")]}
    read = client.get(url, headers={**viewer.headers, "Accept": TAXII})
    assert read.status_code == 200 and read.json() == {"more": False}
    post_headers = {"Accept": TAXII, "Content-Type": TAXII}
    taxii_error(client.post(url, headers={**viewer.headers, **post_headers}, json=obj), 403)
    written = client.post(url, headers={**analyst.headers, **post_headers}, json=obj)
    assert written.status_code == 202 and written.json()["success_count"] == 1
    nothing = make_user(seeded, "nadia", Role.ANALYST)
    scoped = make_token(seeded, nothing.id, scopes=[Permission.ALERTS_READ])
    taxii_error(client.get("/taxii2/", headers={**bearer(scoped), "Accept": TAXII}), 403)


def test_no_trailing_slash_redirects(taxii_client: TestClient) -> None:
    response = taxii_client.get(f"/taxii2/{ROOT}", headers=basic(), follow_redirects=False)
    assert response.status_code in (307, 308)
    assert response.headers["location"].endswith(f"/taxii2/{ROOT}/")


def test_urls_use_base_url_when_set(seeded: Runtime) -> None:
    from civicshield.app import create_app

    settings = seeded.settings.model_copy(update={"base_url": "https://intel.city.example/"})
    rt = dataclasses.replace(seeded, settings=settings)  # same database, other base URL
    with TestClient(create_app(runtime=rt)) as local:
        found = local.get("/taxii2/", headers=basic()).json()
    assert found["api_roots"][0] == "https://intel.city.example/taxii2/api1/"


def test_taxii_routes_are_not_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/taxii2")]


def test_repeated_failed_logins_from_one_address_are_429(taxii_client: TestClient) -> None:
    limit = taxii_client.app.state.runtime.settings.login_ip_limit_per_minute  # type: ignore[attr-defined]
    for _ in range(limit):
        taxii_error(taxii_client.get("/taxii2/", headers=basic(password="guess")), 401)
    blocked = taxii_client.get("/taxii2/", headers=basic())  # even the right password waits
    taxii_error(blocked, 429)
    assert int(blocked.headers["retry-after"]) > 0
