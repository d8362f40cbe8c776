"""The audit chain: appends, verification, and detection of every kind of tampering."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from civicshield import audit
from civicshield.core import Actor, FrozenClock
from civicshield.migrations import upgrade
from civicshield.store import Database
from tests.conftest import test_settings

ACTOR = Actor(kind="user", name="ana.lopez", user_id=7, ip="10.0.0.5")


@pytest.fixture
def db(any_db_url: str, tmp_path: Path) -> Database:
    upgrade(any_db_url)
    database = Database(test_settings(tmp_path / "var", database_url=any_db_url))
    yield database  # type: ignore[misc]
    database.dispose()


def write(db: Database, clock: FrozenClock, n: int) -> None:
    for i in range(n):
        with db.session() as session:
            audit.record(
                session,
                actor=ACTOR,
                action="user.update",
                entity_type="user",
                entity_id=i,
                clock=clock,
                summary=f"change {i}",
                changes={"role": ["viewer", "analyst"], "n": i},
            )


def verify(db: Database) -> audit.ChainReport:
    with db.session() as session:
        return audit.verify_chain(session)


def test_empty_chain_is_intact(db: Database) -> None:
    report = verify(db)
    assert report.ok and report.checked == 0


def test_appended_entries_chain_and_verify(db: Database, clock: FrozenClock) -> None:
    write(db, clock, 5)
    report = verify(db)
    assert report.ok, report.reason
    assert report.checked == 5 == report.head_seq
    with db.session() as session:
        page = audit.list_entries(session, limit=2)
    assert [e.seq for e in page.items] == [5, 4] and page.total == 5
    assert page.items[0].actor == "ana.lopez" and page.items[0].changes["n"] == 4


def test_rolled_back_entry_leaves_no_trace(db: Database, clock: FrozenClock) -> None:
    write(db, clock, 2)

    def failing_change() -> None:
        with db.session() as session:
            audit.record(
                session, actor=ACTOR, action="x", entity_type="y", entity_id=1, clock=clock
            )
            raise RuntimeError("the surrounding change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    write(db, clock, 1)
    assert verify(db).ok and verify(db).checked == 3


@pytest.mark.parametrize(
    ("tamper", "broken_at", "words"),
    [
        ("UPDATE audit_entry SET summary = 'nothing happened' WHERE seq = 3", 3, "edited"),
        ("UPDATE audit_entry SET actor = 'someone.else' WHERE seq = 1", 1, "edited"),
        ("DELETE FROM audit_entry WHERE seq = 2", 2, "missing"),
        ("DELETE FROM audit_entry WHERE seq = 5", 5, "head records entry 5"),
        ("DELETE FROM audit_entry WHERE seq = 1", 1, "missing"),
    ],
)
def test_tampering_is_detected(
    db: Database, clock: FrozenClock, tamper: str, broken_at: int, words: str
) -> None:
    write(db, clock, 5)
    with db.engine.begin() as conn:
        conn.execute(text(tamper))
    report = verify(db)
    assert not report.ok
    assert report.broken_at == broken_at
    assert words in (report.reason or "")


def test_reordering_is_detected(db: Database, clock: FrozenClock) -> None:
    write(db, clock, 4)
    with db.engine.begin() as conn:  # swap entries 2 and 3 by renumbering them
        conn.execute(text("UPDATE audit_entry SET seq = 1000 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_entry SET seq = 2 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = 1000"))
    report = verify(db)
    assert not report.ok and report.broken_at == 2


def test_recomputed_row_hash_still_breaks_the_next_link(db: Database, clock: FrozenClock) -> None:
    """An attacker who edits a row and recomputes its hash must rewrite every later row."""
    write(db, clock, 3)
    with db.session() as session:
        row = session.execute(text("SELECT * FROM audit_entry WHERE seq = 2")).mappings().one()
    forged = audit.entry_hash(
        prev_hash=row["prev_hash"],
        seq=2,
        at=_entry_at(db, 2),
        actor=row["actor"],
        actor_id=row["actor_id"],
        ip=row["ip"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        summary="forged",
        changes={"role": ["viewer", "analyst"], "n": 1},
    )
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entry SET summary='forged', hash=:h WHERE seq=2"), {"h": forged}
        )
    report = verify(db)
    assert not report.ok and report.broken_at == 3


def _entry_at(db: Database, seq: int) -> datetime:
    with db.session() as session:
        return next(e.at for e in audit.list_entries(session, limit=100).items if e.seq == seq)


@pytest.mark.postgres
def test_two_processes_never_fork_the_chain(postgres_server: object, tmp_path: Path) -> None:
    url: str = postgres_server.create_database("audit_race")  # type: ignore[attr-defined]
    try:
        upgrade(url)
        writer = Path(__file__).with_name("_writer.py")
        root = Path(__file__).resolve().parents[3]
        procs = [
            subprocess.Popen(
                [sys.executable, str(writer), url, f"proc{i}", "60"],
                cwd=root,
                env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
            )
            for i in range(2)
        ]
        assert [p.wait(timeout=120) for p in procs] == [0, 0]
        db = Database(test_settings(tmp_path / "var", database_url=url))
        report = verify(db)
        with db.engine.connect() as conn:
            actors = conn.execute(text("SELECT actor, count(*) FROM audit_entry GROUP BY actor"))
            counts = dict(actors.all())  # type: ignore[arg-type]
        db.dispose()
        assert report.ok, report.reason
        assert report.checked == 120
        assert counts == {"system:proc0": 60, "system:proc1": 60}
    finally:
        postgres_server.drop_database("audit_race")  # type: ignore[attr-defined]
