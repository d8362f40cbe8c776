"""`/api/v1/events/hunts`: saved hunts over the API (CRUD, sharing, running, permissions)."""

from __future__ import annotations

from civicshield.core import Role
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient, caller, sign_in
from tests.api.test_events import seed

BASE = "/api/v1/events/hunts"
SQL = "SELECT port, count(*) AS n FROM events GROUP BY port ORDER BY n DESC"


def test_save_list_run_change_delete(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    seed(runtime)
    ana = caller(runtime, "ana", Role.ANALYST)
    body = {"name": "ports", "sql": SQL, "since": "1d", "datasets": ["zeek.conn"]}
    created = client.post(BASE, json=body, headers=ana.headers)
    assert created.status_code == 201, created.text
    hunt = created.json()
    assert created.headers["location"].endswith(f"{BASE}/{hunt['id']}")
    assert hunt["owner"] == "ana" and hunt["shared"] is False
    assert client.post(BASE, json=body, headers=ana.headers).status_code == 409
    bad = client.post(BASE, json={**body, "name": "b", "since": "soon"}, headers=ana.headers)
    assert bad.status_code == 422 and "since" in bad.text
    run = client.post(f"{BASE}/{hunt['id']}/run", headers=ana.headers)
    assert run.status_code == 200, run.text
    assert run.json() == {
        "columns": ["port", "n"],
        "rows": [{"port": "23", "n": 2}, {"port": "80", "n": 1}],
        "truncated": False,
    }
    cut = client.post(f"{BASE}/{hunt['id']}/run", json={"limit": 1}, headers=ana.headers).json()
    assert cut["truncated"] and len(cut["rows"]) == 1
    patched = client.patch(f"{BASE}/{hunt['id']}", json={"shared": True}, headers=ana.headers)
    assert patched.status_code == 200 and patched.json()["shared"] is True
    listed = client.get(BASE, headers=ana.headers).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "ports"
    gone = client.delete(f"{BASE}/{hunt['id']}", headers=ana.headers)
    assert gone.status_code == 204
    assert client.get(f"{BASE}/{hunt['id']}", headers=ana.headers).status_code == 404


def test_private_shared_and_who_may_change(
    runtime: Runtime, client: TestClient, admin_caller: Caller
) -> None:
    ana = caller(runtime, "ana", Role.ANALYST)
    rob = caller(runtime, "rob", Role.RESPONDER)
    mine = client.post(BASE, json={"name": "mine", "sql": SQL}, headers=ana.headers).json()
    ours = client.post(
        BASE, json={"name": "ours", "sql": SQL, "shared": True}, headers=ana.headers
    ).json()
    assert [h["name"] for h in client.get(BASE, headers=rob.headers).json()["items"]] == ["ours"]
    assert client.get(f"{BASE}/{mine['id']}", headers=rob.headers).status_code == 404
    assert client.post(f"{BASE}/{mine['id']}/run", headers=rob.headers).status_code == 404
    assert client.get(f"{BASE}/{ours['id']}", headers=rob.headers).status_code == 200
    assert (
        client.patch(f"{BASE}/{ours['id']}", json={"name": "x"}, headers=rob.headers).status_code
        == 403
    )
    assert client.delete(f"{BASE}/{ours['id']}", headers=rob.headers).status_code == 403
    h = admin_caller.headers
    assert (
        client.patch(f"{BASE}/{mine['id']}", json={"description": "ok"}, headers=h).status_code
        == 200
    )
    assert client.delete(f"{BASE}/{ours['id']}", headers=h).status_code == 204
    mine_only = client.get(f"{BASE}?mine=true", headers=ana.headers).json()
    assert [x["name"] for x in mine_only["items"]] == ["mine"]


def test_viewers_are_refused_and_browsers_need_csrf(
    runtime: Runtime, client: TestClient, viewer_caller: Caller, admin_caller: Caller
) -> None:
    assert client.get(BASE, headers=viewer_caller.headers).status_code == 403
    body = {"name": "n", "sql": SQL}
    assert client.post(BASE, json=body, headers=viewer_caller.headers).status_code == 403
    caller(runtime, "ana", Role.ANALYST)
    browser = sign_in(client, runtime, "ana")
    assert client.post(BASE, json=body).status_code == 403
    ok = client.post(BASE, json=body, headers={"X-CSRF-Token": browser.csrf})
    assert ok.status_code == 201, ok.text
