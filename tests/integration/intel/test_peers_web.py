"""The `/intel/peers` page: add a peer, probe it, subscribe, pull now, remove (CSRF forms);
a viewer sees the page without the forms and cannot post."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from civicshield.core import Role
from civicshield.runtime import Runtime
from tests.api.conftest import TestClient, sign_in
from tests.conftest import make_user
from tests.harness import LiveServer
from tests.unit.intel.conftest import indicator
from tests.unit.intel.peers.fake_taxii import FakeTaxii

SECRET = "peer-secret"


@pytest.fixture
def fake() -> Iterator[tuple[FakeTaxii, str]]:
    server = FakeTaxii(password=SECRET)
    server.add_collection("c1")
    with LiveServer(server.app(), lifespan="off") as live:
        yield server, live.url


def test_manage_peers_from_the_page(
    client: TestClient, runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    server, url = fake
    make_user(runtime, "ana", Role.ANALYST)
    csrf = sign_in(client, runtime, "ana").csrf
    empty = client.get("/intel/peers")
    assert empty.status_code == 200 and 'data-testid="peers-empty"' in empty.text
    form = {
        "csrf_token": csrf, "name": "Villa Norte", "city": "Villa Norte",
        "discovery_url": f"{url}/taxii2/", "auth": "basic", "username": "peer", "secret": SECRET,
    }  # fmt: skip
    added = client.post("/intel/peers", data=form, follow_redirects=False)
    assert added.status_code == 303
    page = client.get("/intel/peers").text
    assert "Villa Norte" in page and 'data-testid="flash">Peer added.' in page
    assert SECRET not in page, page[page.index(SECRET) - 300 : page.index(SECRET) + 50]
    bad = client.post("/intel/peers", data={**form, "name": "X", "discovery_url": "nope"})
    assert bad.status_code == 422 and 'data-testid="error-discovery_url"' in bad.text
    no_csrf = client.post("/intel/peers", data={**form, "csrf_token": "x", "name": "Y"})
    assert no_csrf.status_code == 403

    probed = client.post("/intel/peers/1/probe", data={"csrf_token": csrf})
    assert probed.status_code == 200 and 'data-testid="probe-ok"' in probed.text
    assert 'data-testid="subscribe-form-1"' in probed.text
    server.put("c1", indicator("[domain-name:value = 'kraken-iot.example']"))
    choice = f"{url}/api1/|c1"
    subscribed = client.post(
        "/intel/peers/1/subscribe",
        data={"csrf_token": csrf, "collection": choice, "pull": "on"},
        follow_redirects=False,
    )
    assert subscribed.status_code == 303
    pulled = client.post("/intel/peers/subscriptions/1/pull", data={"csrf_token": csrf})
    assert pulled.status_code == 200 and 'data-testid="pull-result"' in pulled.text
    assert 'data-testid="subscription-1"' in pulled.text
    removed = client.post(
        "/intel/peers/1/remove", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert removed.status_code == 303
    after = client.get("/intel/peers").text
    assert 'data-testid="peers-empty"' in after and "Peer removed." in after


def test_probe_error_shown(
    client: TestClient, runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    _, url = fake
    make_user(runtime, "ana", Role.ANALYST)
    csrf = sign_in(client, runtime, "ana").csrf
    form = {
        "csrf_token": csrf, "name": "Villa Norte", "discovery_url": f"{url}/taxii2/",
        "auth": "basic", "username": "peer", "secret": "wrong",
    }  # fmt: skip
    client.post("/intel/peers", data=form)
    probed = client.post("/intel/peers/1/probe", data={"csrf_token": csrf})
    assert probed.status_code == 502 and "401 Unauthorized" in probed.text


def test_viewer_sees_no_forms_and_cannot_post(client: TestClient, runtime: Runtime) -> None:
    make_user(runtime, "vera", Role.VIEWER)
    csrf = sign_in(client, runtime, "vera").csrf
    shown = client.get("/intel/peers")
    assert shown.status_code == 200 and 'data-testid="peer-add-form"' not in shown.text
    denied = client.post("/intel/peers", data={"csrf_token": csrf, "name": "X"})
    assert denied.status_code == 403
