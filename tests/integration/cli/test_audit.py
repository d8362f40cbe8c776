"""`civicshield audit verify` catches every kind of tampering done with raw SQL."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, create_engine, text

from tests.conftest import PASSWORD

from .conftest import Cli

Tamper = Callable[[Connection], None]


def _edit_summary(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entry SET summary = 'nothing to see' WHERE seq = 3"))


def _delete_middle(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_entry WHERE seq = 3"))


def _swap_seq(conn: Connection) -> None:
    conn.execute(text("UPDATE audit_entry SET seq = -1 WHERE seq = 2"))
    conn.execute(text("UPDATE audit_entry SET seq = 2 WHERE seq = 3"))
    conn.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = -1"))


def _delete_last(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_entry WHERE seq = 5"))


def _rehash_edit(conn: Connection) -> None:
    # A forger who also rewrites the stored hash still breaks the link to the next entry.
    conn.execute(text("UPDATE audit_entry SET hash = :h WHERE seq = 4"), {"h": "f" * 64})


@pytest.fixture
def five_entries(initialised: Cli) -> Cli:
    for name in ("ana.lopez", "raul.mendoza", "regidor.vista"):
        initialised.ok("user", "add", name, "--role", "viewer", "--password", PASSWORD)
    initialised.ok("user", "disable", "regidor.vista")
    return initialised


def test_intact_chain(five_entries: Cli) -> None:
    result = five_entries.ok("audit", "verify")
    assert result.stdout.strip() == "audit chain intact: 5 entries"
    report = five_entries.json("audit", "verify")
    assert report == {"ok": True, "checked": 5, "head_seq": 5, "broken_at": None, "reason": None}


@pytest.mark.parametrize(
    ("tamper", "entry", "reason"),
    [
        (_edit_summary, 3, "entry 3 was edited"),
        (_delete_middle, 3, "entry 3 is missing (next entry found is 4)"),
        (_swap_seq, 2, "entry 2 does not point at entry 1"),
        (_delete_last, 5, "the chain ends at entry 4 but the head records entry 5"),
        (_rehash_edit, 4, "entry 4 was edited"),
    ],
    ids=["edit", "delete-middle", "swap", "delete-last", "rewrite-hash"],
)
def test_tampering_is_reported_with_the_entry(
    five_entries: Cli, tamper: Tamper, entry: int, reason: str
) -> None:
    engine = create_engine(five_entries.db_url)
    with engine.begin() as conn:
        tamper(conn)
    engine.dispose()

    result = five_entries("audit", "verify")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: audit chain broken at entry {entry}: {reason}")
    assert result.stderr.count("\n") == 1

    as_json = five_entries("audit", "verify", "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["broken_at"] == entry
    assert reason in report["reason"]


def test_audit_list(five_entries: Cli) -> None:
    page = five_entries.json("audit", "list", "--limit", "2")
    assert page["total"] == 5 and [e["seq"] for e in page["items"]] == [5, 4]
    assert page["items"][0]["action"] == "user.update"
    creates = five_entries.json("audit", "list", "--action", "user.create")
    assert creates["total"] == 4
    table = five_entries.ok("audit", "list").stdout
    assert "cli:tester" in table and "5 of 5 entries" in table
