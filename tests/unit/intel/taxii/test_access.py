"""Who may do what: collection defaults, per-member grants, API roots a member is limited
to (404, not 403), and CivicShield principals (intel:read reads, intel:manage writes)."""

from __future__ import annotations

import pytest

from civicshield.core import NotFound, PermissionDenied
from civicshield.intel import taxii
from civicshield.runtime import Runtime

from .conftest import HIGH_VALUE, READ_ONLY, ROOT, SECRET, WRITABLE, WRITE_ONLY, member, query


def _rights(rt: Runtime, caller: taxii.TaxiiCaller) -> dict[str, tuple[bool, bool]]:
    with rt.session() as session:
        listed = taxii.collections_information(session, caller, ROOT)["collections"]
    return {c["id"]: (c["can_read"], c["can_write"]) for c in listed}


def test_members_get_collection_defaults(seeded: Runtime) -> None:
    rights = _rights(seeded, member(seeded))
    assert rights == {
        WRITE_ONLY: (False, True),
        WRITABLE: (True, True),
        HIGH_VALUE: (True, True),
        READ_ONLY: (True, False),
        SECRET: (False, False),
    }
    with seeded.session() as session, pytest.raises(PermissionDenied, match=SECRET):
        taxii.objects_page(session, member(seeded), ROOT, SECRET, query())


def test_a_grant_overrides_the_defaults_for_that_member_only(seeded: Runtime) -> None:
    now = seeded.clock.now()
    with seeded.session() as session:
        taxii.create_member(
            session,
            "lyon",
            "Lyon-Peer-Password-1",
            hasher=seeded.accounts.hasher,
            city="Lyon",
            api_root_slugs=[],
            now=now,
        )
        taxii.set_grant(session, "lyon", SECRET, can_read=True, can_write=False, now=now)
        taxii.set_grant(session, "lyon", WRITABLE, can_read=True, can_write=False, now=now)
    lyon = _rights(seeded, member(seeded, "lyon", "Lyon-Peer-Password-1"))
    assert lyon[SECRET] == (True, False) and lyon[WRITABLE] == (True, False)
    assert _rights(seeded, member(seeded))[SECRET] == (False, False)
    with seeded.session() as session:
        caller = member(seeded, "lyon", "Lyon-Peer-Password-1")
        assert taxii.objects_page(session, caller, ROOT, SECRET, query()).items == []
        with pytest.raises(PermissionDenied):
            taxii.post_objects(
                session, caller, ROOT, WRITABLE, {"objects": []}, clock=seeded.clock, location="x"
            )


def test_a_member_limited_to_a_root_sees_no_other(seeded: Runtime) -> None:
    with seeded.session() as session:
        taxii.create_member(
            session,
            "quebec",
            "Quebec-Peer-Password-1",
            hasher=seeded.accounts.hasher,
            city="Québec",
            api_root_slugs=["api1"],
            now=seeded.clock.now(),
        )
    caller = member(seeded, "quebec", "Quebec-Peer-Password-1")
    assert caller.api_root_ids
    with seeded.session() as session:
        found = taxii.discovery(session, caller, base_url="https://x/taxii2", info={}, city="C")
        assert found["api_roots"] == ["https://x/taxii2/api1/"]
        assert "default" not in found  # the default root (trustgroup1) is not its to see
        with pytest.raises(NotFound, match="trustgroup1"):
            taxii.collections_information(session, caller, ROOT)
        with pytest.raises(NotFound):
            taxii.api_root_information(session, caller, ROOT, max_content_length=10**6)


def test_principals_read_with_intel_read_and_write_with_intel_manage(seeded: Runtime) -> None:
    reader = taxii.principal_caller("token:vera#1", can_read=True, can_write=False)
    manager = taxii.principal_caller("token:ana#2", can_read=True, can_write=True)
    assert set(_rights(seeded, reader).values()) == {(True, False)}
    assert set(_rights(seeded, manager).values()) == {(True, True)}
    with seeded.session() as session:
        with pytest.raises(PermissionDenied):
            taxii.post_objects(
                session, reader, ROOT, WRITABLE, {"objects": []}, clock=seeded.clock, location="x"
            )
        status = taxii.post_objects(
            session, manager, ROOT, SECRET, {"objects": []}, clock=seeded.clock, location="x"
        )
        assert status.status == "complete"


def test_authentication(seeded: Runtime) -> None:
    hasher = seeded.accounts.hasher
    with seeded.session() as session:
        assert taxii.authenticate_member(session, "admin", "wrong", hasher=hasher) is None
        assert taxii.authenticate_member(session, "nobody", "Password0", hasher=hasher) is None
        found = taxii.authenticate_member(session, "admin", "Password0", hasher=hasher)
        assert found is not None and found.is_member and found.name == "admin"
