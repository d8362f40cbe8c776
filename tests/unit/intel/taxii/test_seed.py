"""Seeding from a medallion data file: the shared fixture loads whole; bad entries are
reported with their JSON path and the rest loads; our extensions (users, members, TLP)."""

from __future__ import annotations

import copy

from civicshield.intel import taxii
from civicshield.runtime import Runtime

from .conftest import HIGH_VALUE, ROOT, SECRET, fixture_data, member


def _seed(rt: Runtime, data: object, **kw: object) -> taxii.SeedReport:
    with rt.session() as session:
        return taxii.seed(session, data, hasher=rt.accounts.hasher, now=rt.clock.now(), **kw)  # type: ignore[arg-type]


def test_the_shared_fixture_loads_whole(seeded: Runtime) -> None:
    with seeded.session() as session:
        roots = taxii.list_api_roots(session)
        collections = taxii.list_collections(session)
        members = taxii.list_members(session)
    assert [r.slug for r in roots] == ["api1", "api2", ROOT]
    assert [r.is_default for r in roots] == [False, False, True]
    assert roots[2].max_content_length == 9765625
    assert len(collections) == 5
    counts = {c.uuid: c.object_count for c in collections}
    assert counts[HIGH_VALUE] == 8 and sum(counts.values()) == 8
    high = next(c for c in collections if c.uuid == HIGH_VALUE)
    assert (high.title, high.api_root, high.can_read, high.can_write) == (
        "High Value Indicator Collection",
        ROOT,
        True,
        True,
    )
    assert [m.username for m in members] == ["admin"]
    with seeded.session() as session:
        status = taxii.get_status(
            session, member(seeded), ROOT, "2d086da7-4bdc-4f91-900e-d77486753710"
        )
    assert (status.status, status.total_count, status.pending_count) == ("pending", 4, 2)


def test_discovery_fields_are_reported_for_keeping(runtime: Runtime) -> None:
    report = _seed(runtime, fixture_data())
    assert report.discovery["title"] == "Some TAXII Server"
    assert (report.api_roots, report.collections, report.objects, report.statuses) == (3, 5, 8, 2)


def test_bad_entries_are_reported_by_path_and_the_rest_loads(runtime: Runtime) -> None:
    data = copy.deepcopy(fixture_data())
    collections = data[ROOT]["collections"]
    collections[0]["id"] = "not-a-uuid"
    collections[2]["objects"][1] = {"type": "indicator"}
    data[ROOT]["status"][1]["status"] = "lost"
    data["broken"] = ["not", "an", "object"]
    data["users"] = {"lyon": "", "admin": "Password0"}
    report = _seed(runtime, data)
    paths = dict(report.problems)
    assert set(paths) == {
        f"$['{ROOT}'].collections[0]",
        f"$['{ROOT}'].collections[2].objects[1]",
        f"$['{ROOT}'].status[1]",
        "$['broken']",
        "$.users['lyon']",
    }
    assert paths[f"$['{ROOT}'].collections[2].objects[1]"] == "missing 'id'"
    assert (report.collections, report.objects, report.members) == (4, 7, 1)
    assert report.statuses == 1 and "'lost'" in paths[f"$['{ROOT}'].status[1]"]


def test_our_extensions_and_replace(runtime: Runtime) -> None:
    data = {
        "/discovery": {"title": "Ciudad Demo", "default": "https://x/taxii2/cities/"},
        "users": {"lyon": "Lyon-Peer-Password-1"},
        "cities": {
            "information": {"title": "Cities", "max_content_length": 1048576},
            "collections": [
                {
                    "id": "0d5f4a1e-1b8e-4f6a-9c44-3d1f3f1f0a01",
                    "title": "Camera botnet",
                    "can_read": False,
                    "can_write": False,
                    "members": {"lyon": {"can_read": True}, "ghost": {"can_read": True}},
                    "x_civicshield": {"tlp": "green", "multi_city": True, "topic": "cameras"},
                }
            ],
        },
    }
    report = _seed(runtime, data)
    assert report.problems == [
        ("$['cities'].collections[0].members['ghost']", "no TAXII member 'ghost'")
    ]
    with runtime.session() as session:
        (found,) = taxii.list_collections(session)
        (lyon,) = taxii.list_members(session)
    assert (found.tlp, found.topic, found.multi_city) == ("green", "cameras", True)
    assert lyon.grants == {found.uuid: {"can_read": True, "can_write": False}}
    again = _seed(runtime, data)
    assert any("already exists" in reason for _, reason in again.problems)
    replaced = _seed(runtime, fixture_data(), replace=True)
    assert replaced.problems == []
    with runtime.session() as session:
        assert SECRET in {c.uuid for c in taxii.list_collections(session)}
        assert taxii.list_members(session) == []


def test_a_data_file_that_is_not_an_object(runtime: Runtime) -> None:
    assert _seed(runtime, []).problems == [("$", "the data file must be a JSON object")]
