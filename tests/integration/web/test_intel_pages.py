"""Threat-intel pages: the indicators list (filters, counts, paging), one indicator (versions,
sightings, provenance, alerts raised), the feeds page with its import and warninglist forms,
and who may open or use them."""

from __future__ import annotations

import html as html_lib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from civicshield import intel
from civicshield.core import SYSTEM, Role, Tlp
from civicshield.intel.models import IntelObject, IntelProvenance
from civicshield.intel.tlp import marking_id
from civicshield.runtime import Runtime
from tests.conftest import SHARED_DATA
from tests.integration.web.support import csrf_from

IDENTITY = f"identity--{uuid.uuid4()}"
LOCATION = f"identity--{uuid.uuid4()}"
DOMAIN = f"indicator--{uuid.uuid4()}"
ADDRESS = f"indicator--{uuid.uuid4()}"
MUTEX = f"indicator--{uuid.uuid4()}"
REVOKED = f"indicator--{uuid.uuid4()}"
SIGHTING = f"sighting--{uuid.uuid4()}"
T0 = "2026-11-01T00:00:00.000Z"
MD5 = "5f2b7c1e9a0d4c3b8e6f1a2b3c4d5e6f"


def _indicator(ident: str, pattern: str, tlp: Tlp, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator", "spec_version": "2.1", "id": ident, "created": T0, "modified": T0,
        "valid_from": T0, "pattern": pattern, "pattern_type": "stix",
        "object_marking_refs": [marking_id(tlp)], **extra,
    }  # fmt: skip


def _bundle(*objects: object) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}


def _objects() -> list[dict[str, Any]]:
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": IDENTITY,
        "created": T0,
        "modified": T0,
        "name": "Ciudad Norte CSIRT",
        "identity_class": "organization",
    }
    place = {**identity, "id": LOCATION, "name": "Ciudad Sur water utility"}
    domain = _indicator(
        DOMAIN, "[domain-name:value = 'kraken-iot.example']", Tlp.GREEN,
        name="Kraken camera botnet C2", confidence=80, labels=["botnet"],
        created_by_ref=IDENTITY, description="Command server of the camera botnet.",
        kill_chain_phases=[{"kill_chain_name": "attack", "phase_name": "command-and-control"}],
        external_references=[{"source_name": "cert-example", "url": "https://cert.example/kraken",
                              "external_id": "CE-2026-7"}],
    )  # fmt: skip
    sighting = {
        "type": "sighting", "spec_version": "2.1", "id": SIGHTING, "created": T0,
        "modified": T0, "sighting_of_ref": DOMAIN, "count": 7,
        "first_seen": "2026-11-02T08:00:00Z", "last_seen": "2026-11-03T09:30:00Z",
        "where_sighted_refs": [LOCATION],
    }  # fmt: skip
    return [
        identity,
        place,
        domain,
        _indicator(ADDRESS, "[ipv4-addr:value = '45.33.32.156']", Tlp.AMBER, name="Scanner"),
        _indicator(MUTEX, "[mutex:name = 'kraken']", Tlp.CLEAR, name="Kraken mutex"),
        _indicator(REVOKED, "[url:value = 'http://kraken-iot.example/a']", Tlp.RED, revoked=True),
        sighting,
    ]


@pytest.fixture
def stored(runtime: Runtime) -> Runtime:
    """The objects above, a second version of the domain indicator, and one provenance row."""
    newer = {**_objects()[2], "modified": "2026-11-05T00:00:00.000Z", "confidence": 90}
    with runtime.session() as session:
        intel.import_stix(
            session, _bundle(*_objects()), location="peer.json", actor=SYSTEM, clock=runtime.clock
        )
        intel.import_stix(
            session, _bundle(newer), location="update.json", actor=SYSTEM, clock=runtime.clock
        )
        obj_id = max(o.id for o in session.query(IntelObject).filter(IntelObject.stix_id == DOMAIN))
        session.add(
            IntelProvenance(
                object_id=obj_id,
                source_id=None,
                received_at=runtime.clock.now(),
                detail={"peer": "Ciudad Norte", "collection": "camera-botnets"},
            )
        )
    return runtime


def _rows(html: str) -> set[str]:
    return set(re.findall(r'data-testid="indicator-row-([^"]+)"', html))


def test_list_filters_and_counts(stored: Runtime, as_role: Callable[..., Any]) -> None:
    viewer = as_role(Role.VIEWER)
    page = viewer.get("/intel")
    assert page.status_code == 200
    assert _rows(page.text) == {DOMAIN, ADDRESS, MUTEX, REVOKED}
    assert 'data-testid="nav-intel"' in page.text and 'aria-current="page"' in page.text
    counts = dict(re.findall(r'data-testid="count-(\w+)">.*?stat-value">(\d+)<', page.text))
    assert counts == {"active": "2", "expired": "0", "revoked": "1", "suppressed": "0",
                      "not_matchable": "1"}  # fmt: skip
    assert _rows(viewer.get("/intel?kind=domain").text) == {DOMAIN}
    assert _rows(viewer.get("/intel?tlp=amber").text) == {ADDRESS}
    assert _rows(viewer.get("/intel?state=not_matchable").text) == {MUTEX}
    assert _rows(viewer.get("/intel?state=revoked").text) == {REVOKED}
    assert _rows(viewer.get("/intel?q=45.33.32").text) == {ADDRESS}  # a value
    assert _rows(viewer.get("/intel?q=CAMERA").text) == {DOMAIN}  # a name
    with stored.session() as session:
        update = next(s for s in intel.list_sources(session) if s.location == "update.json")
    assert _rows(viewer.get(f"/intel?source={update.id}").text) == {DOMAIN}
    nonsense = viewer.get("/intel?state=bogus&tlp=purple&kind=<x>&source=abc")
    assert nonsense.status_code == 200 and len(_rows(nonsense.text)) == 4
    fragment = viewer.get(
        "/intel?kind=ipv4", headers={"HX-Request": "true", "HX-Target": "indicators-table"}
    )
    assert "<html" not in fragment.text and _rows(fragment.text) == {ADDRESS}


def test_list_pages(runtime: Runtime, as_role: Callable[..., Any]) -> None:
    objects = [
        _indicator(f"indicator--{uuid.uuid4()}", f"[ipv4-addr:value = '203.0.113.{n}']", Tlp.GREEN)
        for n in range(1, 31)
    ]
    with runtime.session() as session:
        intel.import_stix(
            session, _bundle(*objects), location="many.json", actor=SYSTEM, clock=runtime.clock
        )
    viewer = as_role(Role.VIEWER)
    first = viewer.get("/intel?kind=ipv4")
    assert len(_rows(first.text)) == 25 and 'data-testid="page-next"' in first.text
    second = viewer.get("/intel?kind=ipv4&offset=25")
    assert len(_rows(second.text)) == 5 and not _rows(first.text) & _rows(second.text)


def test_indicator_detail(stored: Runtime, as_role: Callable[..., Any]) -> None:
    page = as_role(Role.VIEWER).get(f"/intel/indicators/{DOMAIN}")
    assert page.status_code == 200, page.text
    text = html_lib.unescape(page.text)
    assert "Kraken camera botnet C2" in text
    assert "[domain-name:value = 'kraken-iot.example']" in text
    assert 'class="badge badge-tlp-green">TLP:GREEN' in text
    assert "Ciudad Norte CSIRT" in text  # created_by resolved to the identity's name
    assert "command-and-control" in text and "CE-2026-7" in text
    assert 'href="https://cert.example/kraken"' in text
    assert text.count('data-testid="version-row"') == 2
    assert f'data-testid="sighting-{SIGHTING}"' in text
    assert "Sighted 7 times" in text and "Ciudad Sur water utility" in text
    assert '<time datetime="2026-11-03T09:30:00+00:00"' in text
    assert "camera-botnets" in text and "Ciudad Norte" in text  # provenance detail
    assert 'data-testid="alerts-empty"' in text
    privacy = as_role(Role.PRIVACY_OFFICER).get(f"/intel/indicators/{DOMAIN}")
    assert privacy.status_code == 200
    assert 'data-testid="indicator-alerts"' not in privacy.text  # may not read alerts
    assert as_role(Role.ANALYST).get("/intel/indicators/indicator--nope").status_code == 404


def test_suppressed_indicator_names_the_list(runtime: Runtime, as_role: Callable[..., Any]) -> None:
    lists = SHARED_DATA / "intel" / "misp-warninglists" / "lists"
    if not lists.is_dir():
        pytest.skip(f"shared MISP warninglists not present: {lists}")
    ident = f"indicator--{uuid.uuid4()}"
    with runtime.session() as session:
        intel.load_warninglists(session, lists, actor=SYSTEM, clock=runtime.clock)
        intel.import_stix(
            session,
            _bundle(_indicator(ident, "[ipv4-addr:value = '192.168.7.7']", Tlp.CLEAR)),
            location="dns.json", actor=SYSTEM, clock=runtime.clock,
        )  # fmt: skip
        shown = intel.get_indicator(session, ident, now=runtime.clock.now())
    assert shown.state == "suppressed" and shown.suppressed_by
    page = as_role(Role.VIEWER).get(f"/intel/indicators/{ident}")
    assert 'data-testid="suppressed"' in page.text
    assert html_lib.escape(shown.suppressed_by) in page.text
    assert as_role(Role.VIEWER, "v2").get("/intel?state=suppressed").text.count(ident) >= 1


def test_feeds_page_for_a_viewer(stored: Runtime, as_role: Callable[..., Any]) -> None:
    page = as_role(Role.VIEWER).get("/intel/feeds")
    assert page.status_code == 200
    assert "peer.json" in page.text and "update.json" in page.text
    assert 'data-testid="import-form"' not in page.text
    assert 'data-testid="lists-form"' not in page.text
    assert 'data-testid="intel-tab-publish"' not in page.text


def _post_import(client: Any, content: bytes, name: str, **data: str) -> Any:
    token = csrf_from(client.get("/intel/feeds").text)
    return client.post(
        "/intel/feeds/import",
        data={"csrf_token": token, **data},
        files={"file": (name, content, "application/octet-stream")},
    )


def test_analyst_imports_a_bundle_with_refusals(
    runtime: Runtime, as_role: Callable[..., Any]
) -> None:
    analyst = as_role(Role.ANALYST)
    good = _indicator(f"indicator--{uuid.uuid4()}", "[domain-name:value = 'a.example']", Tlp.GREEN)
    bad = {**good, "id": "indicator--nope"}
    done = _post_import(analyst, json.dumps(_bundle(good, bad)).encode(), "b.json", format="stix")
    assert done.status_code == 200, done.text
    assert 'data-testid="import-report"' in done.text
    refusal = re.search(r'data-testid="refusal"><td><code class="wrap">([^<]+)</code>', done.text)
    assert refusal and refusal.group(1) == "$.objects[1]"
    assert "upload:b.json" in done.text  # the new source is listed
    with runtime.session() as session:
        assert intel.get_indicator(session, good["id"], now=runtime.clock.now()).active


def test_import_csv_and_bad_files(runtime: Runtime, as_role: Callable[..., Any]) -> None:
    analyst = as_role(Role.ANALYST)
    done = _post_import(
        analyst, f"{MD5}\nabc\n".encode(), "hashes.txt", format="csv", mapping="hash"
    )
    assert done.status_code == 200 and 'data-testid="refusal"' in done.text
    assert '<code class="wrap">upload:hashes.txt:2</code>' in done.text  # the refused line
    with runtime.session() as session:
        found = intel.list_indicators(session, intel.IndicatorFilter(q=MD5),
                                      now=runtime.clock.now())  # fmt: skip
    assert found.total == 1
    broken = _post_import(analyst, b'{"type": "bundle",', "broken.json", format="stix")
    assert broken.status_code == 422
    assert "broken.json: not JSON (line 1" in html_lib.unescape(broken.text)
    no_mapping = _post_import(analyst, b"x.example\n", "l.txt", format="csv")
    assert no_mapping.status_code == 422 and 'data-testid="import-error"' in no_mapping.text
    wrong = _post_import(analyst, b"{}", "x.json", format="exe")
    assert wrong.status_code == 422


def test_load_warninglists_stays_under_the_feeds_path(
    runtime: Runtime, as_role: Callable[..., Any]
) -> None:
    if runtime.settings.feeds_path is None:
        pytest.skip("no feeds path (../shared/data) in this checkout")
    admin = as_role(Role.ADMIN)
    token = csrf_from(admin.get("/intel/feeds").text)
    outside = admin.post(
        "/intel/feeds/warninglists", data={"csrf_token": token, "directory": "../../etc"}
    )
    assert outside.status_code == 422 and "not a directory under the feeds path" in outside.text
    lists = runtime.settings.feeds_path / "intel" / "misp-warninglists" / "lists"
    if not lists.is_dir():
        pytest.skip(f"shared MISP warninglists not present: {lists}")
    done = admin.post("/intel/feeds/warninglists", data={"csrf_token": token, "directory": ""})
    assert done.status_code == 200 and 'data-testid="lists-loaded"' in done.text
    assert done.text.count('data-testid="warninglist-row"') == len(list(lists.glob("*/list.json")))


def test_permissions(stored: Runtime, as_role: Callable[..., Any]) -> None:
    operator = as_role(Role.SECTOR_OPERATOR)
    for path in ("/intel", "/intel/feeds", f"/intel/indicators/{DOMAIN}"):
        assert operator.get(path).status_code == 403, path
    assert 'data-testid="nav-intel"' not in operator.get("/").text
    viewer = as_role(Role.VIEWER)
    token = csrf_from(viewer.get("/intel/feeds").text)
    refused = viewer.post(
        "/intel/feeds/import",
        data={"csrf_token": token, "format": "stix"},
        files={"file": ("b.json", b"{}", "application/json")},
    )
    assert refused.status_code == 403
    lists = viewer.post("/intel/feeds/warninglists", data={"csrf_token": token})
    assert lists.status_code == 403


def test_queries_behind_the_pages_on_both_databases(runtime_any: Runtime) -> None:
    """The state counts (a CASE grouped over a subquery) and the sightings lookup (a JSON
    path) behave the same on SQLite and PostgreSQL."""
    rt = runtime_any
    with rt.session() as session:
        intel.import_stix(session, _bundle(*_objects()), location="p.json", actor=SYSTEM,
                          clock=rt.clock)  # fmt: skip
        now = rt.clock.now()
        found = intel.list_indicators(session, intel.IndicatorFilter(state="active"), now=now)
        shown = intel.get_indicator(session, DOMAIN, now=now)
    assert {i.stix_id for i in found.items} == {DOMAIN, ADDRESS}
    assert found.counts == {"active": 2, "revoked": 1, "not_matchable": 1}
    assert [s.stix_id for s in shown.sightings] == [SIGHTING] and shown.sighting_count == 7
    assert shown.sightings[0].where_sighted == ["Ciudad Sur water utility"]


def test_dashboard_card(stored: Runtime, as_role: Callable[..., Any]) -> None:
    bad = {**_objects()[3], "id": "indicator--nope"}
    with stored.session() as session:
        intel.import_stix(
            session, _bundle(bad), location="broken.json", actor=SYSTEM, clock=stored.clock
        )
    page = as_role(Role.VIEWER).get("/").text
    stats = dict(
        re.findall(r'data-testid="intel-(\w+)">[^<]*<span class="stat-value">(\d+)<', page)
    )
    assert stats == {"active": "2", "sighted": "1"}
    assert "Last feed error: broken.json" in page
    assert 'data-testid="card-intel"' not in as_role(Role.SECTOR_OPERATOR).get("/").text
