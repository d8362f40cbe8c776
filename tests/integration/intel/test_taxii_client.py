"""Done-when interop test: the OASIS `taxii2-client` (software we did not write) drives our
TAXII 2.1 server over a live uvicorn, seeded with the OASIS reference server's fixture plus a
member: discovery, API root, collections, objects with filters, paging with `next`, add
objects, object, versions, manifest, delete; and one request with an API token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from civicshield.core import Role
from civicshield.intel import taxii
from civicshield.runtime import Runtime
from tests.api.conftest import caller
from tests.harness import LiveServer
from tests.unit.intel.conftest import indicator
from tests.unit.intel.taxii.conftest import (
    HIGH_VALUE,
    INDICATOR,
    ROOT,
    SECRET,
    WRITABLE,
    seed_medallion,
)

USER, PASSWORD = "admin", "Password0"


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@pytest.fixture
def live(runtime: Runtime) -> Iterator[LiveServer]:
    from civicshield.app import create_app

    seed_medallion(runtime)
    taxii.save_discovery(runtime.settings.data_dir, {"title": "Some TAXII Server"})
    server = LiveServer(create_app(runtime=runtime)).start()
    yield server
    server.stop()


def _root(live: LiveServer, **auth: Any) -> tuple[Server, ApiRoot]:
    server = Server(f"{live.url}/taxii2/", **auth)
    roots = {r.url.rstrip("/").rsplit("/", 1)[-1]: r for r in server.api_roots}
    return server, roots[ROOT]


def _collection(root: ApiRoot, uuid: str) -> Collection:
    return next(c for c in root.collections if c.id == uuid)


def _ids(envelope: dict[str, Any]) -> list[str]:
    return [o["id"] for o in envelope.get("objects", [])]


def test_taxii2_client_drives_the_server(live: LiveServer) -> None:
    server, root = _root(live, user=USER, password=PASSWORD)
    assert server.title == "Some TAXII Server"
    assert len(server.api_roots) == 3 and server.default is not None
    assert root.title == "Malware Research Group"
    assert root.max_content_length == 9765625
    assert root.versions == ["application/taxii+json;version=2.1"]
    rights = {c.id: (c.can_read, c.can_write) for c in root.collections}
    assert len(rights) == 5 and rights[SECRET] == (False, False)
    assert rights[WRITABLE] == (True, True)

    high = _collection(root, HIGH_VALUE)
    everything = high.get_objects()
    assert len(everything["objects"]) == 5 and everything["more"] is False
    pages = list(as_pages(high.get_objects, per_request=2))
    assert [len(p["objects"]) for p in pages] == [2, 2, 1]
    assert [i for p in pages for i in _ids(p)] == _ids(everything)
    all_versions = list(as_pages(high.get_objects, per_request=2, version="all"))
    assert sum(len(p["objects"]) for p in all_versions) == 7

    assert set(_ids(high.get_objects(type="indicator"))) == {
        INDICATOR,
        "indicator--cd981c25-8042-4166-8945-51178443bdac",
    }
    assert _ids(high.get_objects(id=INDICATOR, version="all")) == [INDICATOR] * 3
    first = high.get_objects(id=INDICATOR, version="first")["objects"][0]
    assert first["modified"] == "2016-11-03T12:30:59.000Z"
    after = high.get_objects(added_after="2017-01-01T00:00:00Z")
    assert len(after["objects"]) == 3

    versions = high.object_versions(INDICATOR)
    assert versions["versions"][-1] == "2017-01-27T13:49:53.935Z"
    manifest = high.get_manifest()
    assert {m["id"] for m in manifest["objects"]} == set(_ids(everything))
    one = high.get_object(INDICATOR)
    assert one["objects"][0]["modified"] == "2017-01-27T13:49:53.935Z"

    writable = _collection(root, WRITABLE)
    obj = indicator("[ipv4-addr:value = '203.0.113.77']")
    status = writable.add_objects({"objects": [obj]}, wait_for_completion=True)
    assert status.status == "complete" and status.success_count == 1
    assert status.successes[0]["id"] == obj["id"]
    assert root.get_status(status.id).total_count == 1
    assert writable.get_object(obj["id"])["objects"] == [obj]
    writable.delete_object(obj["id"])
    with pytest.raises(requests.HTTPError) as gone:
        writable.get_object(obj["id"])
    assert gone.value.response.status_code == 404


def test_an_api_token_reads_through_taxii2_client(live: LiveServer, runtime: Runtime) -> None:
    viewer = caller(runtime, "vera", Role.VIEWER)
    _, root = _root(live, auth=BearerAuth(viewer.token))
    secret = _collection(root, SECRET)
    assert (secret.can_read, secret.can_write) == (True, False)
    assert len(_collection(root, HIGH_VALUE).get_objects()["objects"]) == 5
