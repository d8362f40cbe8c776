"""`civicshield demo` and `civicshield.demo.load_demo`: idempotent, private credentials."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from civicshield import accounts, audit, jobs
from civicshield.core import FrozenClock
from civicshield.core.hookspecs import hookimpl
from civicshield.demo import CREDENTIALS_FILE, DEMO_PEOPLE, load_demo, read_credentials
from civicshield.migrations import upgrade
from civicshield.runtime import build_runtime
from tests.conftest import NOW, test_settings

from .conftest import ADMIN_PASSWORD, Cli
from .test_init_db import login

EXPECTED = {
    "admin": ("admin", [], "en"),
    "ana.lopez": ("analyst", [], "es-MX"),
    "raul.mendoza": ("responder", [], "es-MX"),
    "sophie.tremblay": ("privacy_officer", [], "fr-CA"),
    "agua.operador": ("sector_operator", ["water"], "es-MX"),
    "transporte.operador": ("sector_operator", ["energy", "transport"], "fr-CA"),
    "regidor.vista": ("viewer", [], "es-MX"),
}


def snapshot(cli: Cli) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    users = cli.json("user", "list")["items"]
    entries = cli.json("audit", "list", "--limit", "1000")["items"]
    tokens = cli.json("token", "list", "--all")["items"]
    return users, entries, tokens


def test_demo_twice_is_idempotent(initialised: Cli) -> None:
    cli = initialised
    first = cli.json("demo")
    assert first["city"] == "Ciudad Demo"
    assert first["users_created"] == [u for u in EXPECTED if u != "admin"]
    assert first["passwords_reset"] == ["admin"]  # init made admin with another password
    assert first["token_created"] and first["job_queued"] and first["credentials_created"]
    users, entries, tokens = snapshot(cli)
    assert {u["username"]: (u["role"], u["sectors"], u["language"]) for u in users} == EXPECTED
    timezones = {u["username"]: u["timezone"] for u in users}
    assert timezones["sophie.tremblay"] == "America/Montreal"
    assert timezones["ana.lopez"] == "America/Tijuana"

    second = cli.json("demo")
    assert second["changed"] is False
    assert second["users_created"] == [] and second["passwords_reset"] == []
    assert sorted(second["users_present"]) == sorted(EXPECTED)
    assert second["password"] == first["password"]
    assert second["siem_token"] == first["siem_token"]
    assert snapshot(cli) == (users, entries, tokens)  # nothing new, no duplicate audit entries
    assert "already loaded; nothing changed" in cli.ok("demo").stdout
    assert cli.json("jobs", "list", "--name", "audit.verify")["total"] == 1


def test_demo_credentials_file_and_logins(initialised: Cli) -> None:
    cli = initialised
    result = cli.ok("demo")
    path = cli.data_dir / CREDENTIALS_FILE
    stored = read_credentials(path)
    assert stored is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = stored["password"]
    assert f"as admin with the password\n\n    {password}" in result.stdout
    assert "http://127.0.0.1:8000/" in result.stdout
    for person in DEMO_PEOPLE:
        assert login(cli, person.username, password).username == person.username
    rt = cli.runtime()
    with rt.session() as session:
        principal = accounts.principal_for_token(
            session, stored["siem_token"], ip=None, clock=rt.clock
        )
        assert principal is not None and principal.username == "ana.lopez"
        assert {p.value for p in principal.permissions} == {"dashboard:view"}
        admin = accounts.get_user_by_username(session, "admin")
        assert admin.must_change_password is False
        resets = audit.list_entries(session, action="user.reset_password").items
        assert [(e.entity_id, e.actor) for e in resets] == [(str(admin.id), "cli:tester")]
        assert audit.verify_chain(session).ok
    rt.close()
    with pytest.raises(accounts.BadCredentials):
        login(cli, "admin", ADMIN_PASSWORD)


def test_a_new_credentials_file_resets_every_demo_account(initialised: Cli) -> None:
    cli = initialised
    old = cli.json("demo")
    (cli.data_dir / CREDENTIALS_FILE).unlink()
    new = cli.json("demo")
    assert new["password"] != old["password"]
    assert sorted(new["passwords_reset"]) == sorted(EXPECTED)
    assert new["token_created"] and new["siem_token"] != old["siem_token"]
    for username in EXPECTED:
        assert login(cli, username, new["password"]).username == username
    tokens = cli.json("token", "list", "--all")["items"]
    assert [(t["name"], t["revoked_at"] is None) for t in tokens] == [
        ("Demo SIEM forwarder", True),
        ("Demo SIEM forwarder", False),
    ]
    assert cli.json("demo")["changed"] is False


def test_demo_without_init_says_what_to_do(cli: Cli) -> None:
    result = cli("demo")
    assert result.exit_code == 1 and "civicshield init" in result.stderr


class DemoPlugin:
    def __init__(self) -> None:
        self.calls: list[tuple[object, object]] = []

    @hookimpl
    def civicshield_load_demo(self, session: object, clock: object) -> None:
        self.calls.append((session, clock))


def test_load_demo_calls_the_plugin_hook(tmp_path: Path, any_db_url: str) -> None:
    settings = test_settings(tmp_path / "var", database_url=any_db_url)
    upgrade(any_db_url)
    plugin = DemoPlugin()
    clock = FrozenClock(NOW)
    rt = build_runtime(settings, clock=clock, plugins=[plugin])
    try:
        result = load_demo(rt)
        assert result.admin_username == "admin" and "admin" in result.users_created
        assert len(plugin.calls) == 1 and plugin.calls[0][1] is clock
        with rt.session() as session:
            entries = audit.list_entries(session, limit=100).items
            assert {e.actor for e in entries} == {"system:demo"}
            assert jobs.list_jobs(session, name="audit.verify").total == 1
        again = load_demo(rt)
        assert not again.changed and len(plugin.calls) == 2
    finally:
        rt.close()
