"""Saved hunts in the telemetry service: CRUD, ownership, shared visibility, audit, running
one over a real event store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from pydantic import ValidationError

from civicshield import audit, telemetry
from civicshield.accounts import Principal
from civicshield.core import Role
from civicshield.core.errors import Conflict, Invalid, NotFound, PermissionDenied
from civicshield.detect.eventstore import EventStore
from civicshield.runtime import Runtime
from civicshield.telemetry import SavedHuntCreate, SavedHuntUpdate
from tests.conftest import make_user, principal_of


def who(rt: Runtime, name: str, role: Role = Role.ANALYST) -> Principal:
    return principal_of(rt, make_user(rt, name, role).id)


def create(rt: Runtime, p: Principal, **values: object) -> telemetry.SavedHuntRead:
    body = SavedHuntCreate(**{"name": "telnet", "sql": "SELECT * FROM events", **values})
    with rt.session() as session:
        return telemetry.create_saved_hunt(session, body, principal=p, clock=rt.clock)


def visible(rt: Runtime, p: Principal) -> list[str]:
    with rt.session() as session:
        return [h.name for h in telemetry.list_saved_hunts(session, principal=p).items]


def test_crud_with_audit(runtime_any: Runtime) -> None:
    rt = runtime_any
    ana = who(rt, "ana")
    saved = create(rt, ana, since=" 7d ", datasets=["zeek.conn", "zeek.conn"])
    assert (saved.owner, saved.since, saved.datasets, saved.shared) == (
        "ana",
        "7d",
        ["zeek.conn"],
        False,
    )
    with rt.session() as session:
        changed = telemetry.update_saved_hunt(
            session,
            saved.id,
            SavedHuntUpdate(sql="SELECT 1 FROM events", shared=True),
            principal=ana,
            clock=rt.clock,
        )
        again = telemetry.update_saved_hunt(
            session, saved.id, SavedHuntUpdate(shared=True), principal=ana, clock=rt.clock
        )
    assert changed.sql == "SELECT 1 FROM events" and changed.shared and again == changed
    with rt.session() as session:
        telemetry.delete_saved_hunt(session, saved.id, principal=ana, clock=rt.clock)
    with rt.session() as session, pytest.raises(NotFound):
        telemetry.get_saved_hunt(session, saved.id, principal=ana)
    with rt.session() as session:
        actions = {e.action: e for e in audit.list_entries(session, entity_type="saved_hunt").items}
        assert set(actions) == {"saved_hunt.create", "saved_hunt.update", "saved_hunt.delete"}
        assert actions["saved_hunt.update"].changes == {
            "sql": ["SELECT * FROM events", "SELECT 1 FROM events"],
            "shared": [False, True],
        }  # the no-op update wrote nothing
        assert audit.verify_chain(session).ok


def test_validation_and_unique_names(runtime_any: Runtime) -> None:
    rt = runtime_any
    ana, bob = who(rt, "ana"), who(rt, "bob")
    create(rt, ana)
    with pytest.raises(Conflict, match="already have a saved hunt named 'telnet'"):
        create(rt, ana)
    create(rt, bob)  # names are unique per owner only
    with pytest.raises(Invalid) as bad:
        create(rt, ana, name="other", since="last week")
    assert bad.value.errors[0].loc == ("body", "since")
    for values in (
        {"name": ""},
        {"name": "x" * 101},
        {"sql": "  "},
        {"sql": "x" * 20_001},
        {"datasets": ["../etc"]},
    ):
        with pytest.raises(ValidationError):
            SavedHuntCreate(**{"name": "n", "sql": "SELECT 1", **values})  # type: ignore[arg-type]


def test_ownership_and_shared_visibility(runtime_any: Runtime) -> None:
    rt = runtime_any
    ana, bob, root = who(rt, "ana"), who(rt, "bob"), who(rt, "root", Role.ADMIN)
    private = create(rt, ana, name="private")
    shared = create(rt, ana, name="shared", shared=True)
    assert visible(rt, ana) == ["private", "shared"]
    assert visible(rt, bob) == ["shared"]
    with rt.session() as session:
        with pytest.raises(NotFound):
            telemetry.get_saved_hunt(session, private.id, principal=bob)
        assert telemetry.get_saved_hunt(session, shared.id, principal=bob).name == "shared"
        with pytest.raises(PermissionDenied, match="only its owner"):
            telemetry.update_saved_hunt(
                session, shared.id, SavedHuntUpdate(name="mine"), principal=bob, clock=rt.clock
            )
        with pytest.raises(PermissionDenied):
            telemetry.delete_saved_hunt(session, shared.id, principal=bob, clock=rt.clock)
    with rt.session() as session:  # an administrator may change and delete anyone's
        assert telemetry.get_saved_hunt(session, private.id, principal=root).owner == "ana"
        telemetry.update_saved_hunt(
            session,
            private.id,
            SavedHuntUpdate(description="checked"),
            principal=root,
            clock=rt.clock,
        )
        telemetry.delete_saved_hunt(session, shared.id, principal=root, clock=rt.clock)
    assert visible(rt, ana) == ["private"]


def test_run_saved_counts_since_back_from_now(runtime_any: Runtime) -> None:
    rt = runtime_any
    ana, bob = who(rt, "ana"), who(rt, "bob")
    store = EventStore(rt.settings.data_dir / "events")
    now = rt.clock.now()
    stamps = pl.Series([now - timedelta(days=10), now - timedelta(hours=1)] * 2)
    frame = pl.DataFrame(
        {"@timestamp": stamps.cast(pl.Datetime("us", "UTC")), "port": ["23", "23", "80", "80"]}
    )
    store.write(frame, "zeek.conn")
    store.write(frame, "suricata")
    saved = create(
        rt, ana, sql="SELECT port FROM events ORDER BY port", since="2d", datasets=["zeek.conn"]
    )
    with rt.session() as session:
        run = telemetry.run_saved(session, saved.id, store, principal=ana, now=now, limit=5)
        assert run.columns == ["port"] and [r["port"] for r in run.rows()] == ["23", "80"]
        cut = telemetry.run_saved(session, saved.id, store, principal=ana, now=now, limit=1)
        assert cut.truncated and cut.frame.height == 1
        with pytest.raises(NotFound):
            telemetry.run_saved(session, saved.id, store, principal=bob, now=now)
    with pytest.raises(Invalid, match="hunt query failed"):
        telemetry.run_hunt(store, "SELECT nope FROM events", now=now)
