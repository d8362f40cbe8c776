"""Differential test against the OASIS reference TAXII 2.1 server, medallion (PyPI, software
we did not write): both servers load the same data file (`../shared/data/intel/
taxii-medallion-fixture/default_data.json`), get the same requests, and must give the same
status codes, collections, objects, manifests, versions, `more` flags and date-added headers.

Known differences (docs/taxii.md, "Conformance checks") are each pinned by an assertion that
says who does what and why; anything else that answers differently fails the test.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from civicshield.runtime import Runtime
from tests.harness import LiveServer
from tests.unit.intel.conftest import INTEL
from tests.unit.intel.taxii.conftest import (
    ADMIN,
    FIXTURE,
    HIGH_VALUE,
    INDICATOR,
    MALWARE,
    READ_ONLY,
    ROOT,
    SECRET,
    WRITABLE,
    WRITE_ONLY,
    seed_medallion,
)

pytest.importorskip("medallion", reason="medallion (test dependency: the reference server)")

TAXII = "application/taxii+json;version=2.1"
HEADERS = {"Accept": TAXII}
AUTH = ADMIN
PAGE = 100  # both servers' page size


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[str]:
    """medallion's memory backend on a copy of the fixture, its base URL."""
    source = INTEL / FIXTURE
    if not source.is_file():
        pytest.skip(f"shared TAXII fixture {source} is absent (../shared/data/intel)")
    data = tmp_path / "medallion-data.json"
    data.write_bytes(source.read_bytes())
    config = tmp_path / "medallion.json"
    backend = {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend"}
    config.write_text(
        json.dumps(
            {
                "backend": {**backend, "filename": str(data)},
                "users": dict([ADMIN]),
                "taxii": {"max_page_size": PAGE},
            }
        )
    )
    port = _free_port()
    log = (tmp_path / "medallion.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from medallion.scripts.run import main; main()",
         "--host", "127.0.0.1", "--port", str(port), str(config)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{base}/taxii2/", auth=AUTH, headers=HEADERS, timeout=2)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = (tmp_path / "medallion.log").read_text(errors="replace")
                    pytest.fail(f"medallion did not start:\n{text[-2000:]}")
                time.sleep(0.1)  # a poll interval while the server starts
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture
def ours(runtime: Runtime) -> Iterator[str]:
    from civicshield.app import create_app

    assert runtime.settings.taxii_page_size == PAGE
    seed_medallion(runtime)
    server = LiveServer(create_app(runtime=runtime)).start()
    yield f"{server.url}/taxii2"
    server.stop()


def _shape(body: Any) -> Any:
    """What must agree in a TAXII answer (ids and versions, not URLs or token values). An
    empty envelope may be `{}` (medallion) or `{"more": false, "objects": []}` (ours): both
    say the same, `more` and `objects` being optional. medallion lists an object's versions
    newest first; TAXII 2.1 pages every list by date added, ascending, as we do: the versions
    are compared as sets (their dates added are in the headers, compared as they are)."""
    if body == {}:
        body = {"more": False, "objects": []}
    if not isinstance(body, dict):
        return body
    if "collections" in body:
        return sorted(
            (c["id"], c["title"], c["can_read"], c["can_write"], tuple(c.get("media_types", [])))
            for c in body["collections"]
        )
    if "objects" in body and body["objects"] and "date_added" in body["objects"][0]:
        return {
            "more": body.get("more", False),
            "manifest": [
                (o["id"], o["version"], o["date_added"], o["media_type"]) for o in body["objects"]
            ],
        }
    if "objects" in body or "versions" in body or "more" in body:
        return {
            "more": body.get("more", False),
            "objects": [
                (o["id"], o.get("modified", o.get("created"))) for o in body.get("objects", [])
            ],
            "versions": sorted(body["versions"]) if "versions" in body else None,
        }
    return body


def _get(base: str, path: str, params: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    got = requests.get(f"{base}{path}", params=params, auth=AUTH, headers=HEADERS, timeout=30)
    body = got.json() if got.content and got.status_code == 200 else None
    dates = (
        got.headers.get("X-TAXII-Date-Added-First"),
        got.headers.get("X-TAXII-Date-Added-Last"),
    )
    return got.status_code, _shape(body), dates if got.status_code == 200 else None


def _requests() -> list[tuple[str, dict[str, str] | None]]:
    objects = f"/{ROOT}/collections/{HIGH_VALUE}/objects/"
    manifest = f"/{ROOT}/collections/{HIGH_VALUE}/manifest/"
    out: list[tuple[str, dict[str, str] | None]] = [
        (f"/{ROOT}/collections/", None),
        (f"/{ROOT}/collections/{HIGH_VALUE}/", None),
        (f"/{ROOT}/collections/{SECRET}/", None),
        (f"/{ROOT}/collections/{SECRET}/objects/", None),
        (f"/{ROOT}/collections/{WRITE_ONLY}/objects/", None),
        (f"/{ROOT}/collections/{READ_ONLY}/objects/", None),
        (f"/{ROOT}/collections/{WRITABLE}/objects/", None),
        (f"/{ROOT}/collections/00000000-0000-4000-8000-000000000000/objects/", None),
        (f"{objects}{INDICATOR}/", None),
        (f"{objects}{INDICATOR}/versions/", None),
        (f"{objects}{MALWARE}/versions/", None),
        (f"{objects}indicator--00000000-0000-4000-8000-000000000000/", None),
    ]
    filters: list[dict[str, str]] = [
        {},
        {"match[type]": "indicator"},
        {"match[type]": "indicator,malware"},
        {"match[id]": INDICATOR},
        {"match[version]": "all"},
        {"match[version]": "first"},
        {"match[version]": "last"},
        {"match[version]": "first,last"},
        {"match[version]": "2016-12-25T12:30:59.444Z"},
        {"match[spec_version]": "2.0"},
        {"match[spec_version]": "2.1"},
        {"match[spec_version]": "2.0,2.1"},
        {"added_after": "2016-11-01T03:04:05Z"},
        {"added_after": "2017-01-20T00:00:00.000Z"},
        {"match[type]": "indicator", "match[version]": "all"},
    ]
    for params in filters:
        out += [(objects, params or None), (manifest, params or None)]
    for params in ({"match[version]": "all"}, {"match[spec_version]": "2.0,2.1"}, {}):
        out.append((f"{objects}{INDICATOR}/", params or None))
    out.append((f"{objects}{INDICATOR}/versions/", {"added_after": "2016-12-01T00:00:00Z"}))
    return out


def test_the_same_requests_get_the_same_answers(medallion: str, ours: str) -> None:
    differences = []
    for path, params in _requests():
        theirs, mine = _get(medallion, path, params), _get(ours, path, params)
        if theirs != mine:
            differences.append(f"{path} {params}:\n  medallion: {theirs}\n  ours:      {mine}")
    assert not differences, "\n".join(differences)


def _all_pages(base: str, path: str, limit: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    params: dict[str, str] = {"limit": str(limit), "match[version]": "all"}
    for _ in range(50):
        got = requests.get(f"{base}{path}", params=params, auth=AUTH, headers=HEADERS, timeout=30)
        assert got.status_code == 200, got.text
        body = got.json()
        seen += [(o["id"], o.get("modified", o.get("created"))) for o in body.get("objects", [])]
        if not body.get("more"):
            return seen
        params = {**params, "next": str(body["next"])}
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_walks_the_same_objects_in_the_same_order(
    medallion: str, ours: str, limit: int
) -> None:
    path = f"/{ROOT}/collections/{HIGH_VALUE}/objects/"
    assert _all_pages(ours, path, limit) == _all_pages(medallion, path, limit)


def _indicator(ident: str, modified: str) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{ident}",
        "created": "2026-11-20T10:00:00.000Z", "modified": modified, "name": "C2 address",
        "pattern": "[ipv4-addr:value = '203.0.113.7']", "pattern_type": "stix",
        "valid_from": "2026-11-20T10:00:00Z",
    }  # fmt: skip


def _add(base: str, objects: list[dict[str, Any]]) -> tuple[Any, ...]:
    posted = requests.post(
        f"{base}/{ROOT}/collections/{WRITABLE}/objects/",
        data=json.dumps({"objects": objects}),
        auth=AUTH,
        headers={**HEADERS, "Content-Type": TAXII},
        timeout=30,
    )
    status = posted.json()
    counts = tuple(status.get(k) for k in ("total_count", "success_count", "failure_count"))
    versions = _get(base, f"/{ROOT}/collections/{WRITABLE}/objects/", {"match[version]": "all"})
    return posted.status_code, status.get("status"), counts, versions[:2]


def test_adding_objects_reports_and_stores_the_same(medallion: str, ours: str) -> None:
    ident = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
    first = [_indicator(ident, "2026-11-20T10:00:00.000Z")]
    later = [_indicator(ident, "2026-11-21T10:00:00.000Z"), *first]  # one new, one again
    assert _add(ours, first) == _add(medallion, first)
    mine, theirs = _add(ours, later), _add(medallion, later)
    assert (mine[0], mine[1], mine[3]) == (theirs[0], theirs[1], theirs[3])
    # Known difference: a version already held, sent again, is a success for us ("already
    # held", so a client's retry succeeds) and a failure for medallion ("Unable to process").
    assert (mine[2], theirs[2]) == ((2, 2, 0), (2, 1, 1))


def test_known_difference_we_refuse_what_is_not_stix(medallion: str, ours: str) -> None:
    """medallion stores any object with an `id`; we check the object (docs/taxii.md, "Adding
    objects") and report the refusal in the status resource, keeping the rest."""
    bad = [{"type": "indicator", "spec_version": "2.1", "id": "indicator--bad"}]
    assert _add(medallion, bad)[2] == (1, 1, 0)
    assert _add(ours, bad)[2] == (1, 0, 1)
