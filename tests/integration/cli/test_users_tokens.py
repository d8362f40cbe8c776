"""`civicshield user …` and `civicshield token …`."""

from __future__ import annotations

import re

import pytest

from civicshield import accounts
from civicshield.core import AuthenticationError
from tests.conftest import PASSWORD

from .conftest import Cli
from .test_init_db import login


def test_user_add_list_disable_enable(initialised: Cli) -> None:
    cli = initialised
    added = cli.json(
        "user",
        "add",
        "ana.lopez",
        "--role",
        "Analyst",
        "--password",
        PASSWORD,
        "--email",
        "ana@ciudad-demo.example",
        "--display-name",
        "Ana López",
        "--language",
        "es-MX",
        "--timezone",
        "America/Tijuana",
    )
    assert added["password"] is None
    assert added["user"]["role"] == "analyst" and added["user"]["language"] == "es-MX"
    cli.ok(
        "user",
        "add",
        "agua.operador",
        "--role",
        "sector_operator",
        "--sector",
        "water",
        "--sector",
        "Energy",
        "--password",
        PASSWORD,
    )
    assert login(cli, "ana.lopez", PASSWORD).username == "ana.lopez"

    listed = cli.json("user", "list")
    assert [u["username"] for u in listed["items"]] == ["admin", "agua.operador", "ana.lopez"]
    operators = cli.json("user", "list", "--role", "sector_operator")["items"]
    assert [(u["username"], u["sectors"]) for u in operators] == [
        ("agua.operador", ["energy", "water"])
    ]
    table = cli.ok("user", "list").stdout
    assert "ana.lopez" in table and "Ana López" in table and "3 of 3 user(s)" in table

    assert "disabled ana.lopez" in cli.ok("user", "disable", "ana.lopez").stdout
    assert "already disabled" in cli.ok("user", "disable", "ana.lopez").stdout
    disabled = cli.json("user", "list", "--disabled")["items"]
    assert [u["username"] for u in disabled] == ["ana.lopez"]
    assert len(cli.json("user", "list", "--active")["items"]) == 2
    with pytest.raises(AuthenticationError):
        login(cli, "ana.lopez", PASSWORD)
    assert cli.json("user", "enable", "ana.lopez")["is_active"] is True
    assert login(cli, "ana.lopez", PASSWORD).username == "ana.lopez"

    actions = [e["action"] for e in cli.json("audit", "list")["items"]]
    assert actions == [
        "auth.login",
        "user.update",
        "auth.login_failed",
        "user.update",
        "auth.login",
        "user.create",
        "user.create",
        "user.create",
    ]


def test_user_add_prompts_for_the_password_twice(initialised: Cli) -> None:
    cli = initialised
    result = cli.ok(
        "user", "add", "raul.mendoza", "--role", "responder", input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert "created user raul.mendoza (responder)" in result.stdout
    assert PASSWORD not in result.output
    assert login(cli, "raul.mendoza", PASSWORD).username == "raul.mendoza"
    mismatch = cli("user", "add", "x.y", "--role", "viewer", input=f"{PASSWORD}\nother\n\n")
    assert mismatch.exit_code == 1


def test_user_add_generate_and_reset_password(initialised: Cli) -> None:
    cli = initialised
    made = cli.json("user", "add", "sophie.tremblay", "--role", "privacy_officer", "--generate")
    assert login(cli, "sophie.tremblay", made["password"])
    shown = cli.ok("user", "reset-password", "sophie.tremblay").stdout
    match = re.search(r"shown only once, store it safely\):\s+(\S+)", shown)
    assert match, shown
    result = login(cli, "sophie.tremblay", match.group(1))
    assert result.username == "sophie.tremblay"
    with pytest.raises(AuthenticationError):
        login(cli, "sophie.tremblay", made["password"])
    chosen = cli.json("user", "reset-password", "sophie.tremblay", "--password", PASSWORD)
    assert chosen == {"username": "sophie.tremblay", "password": None, "must_change_password": True}
    rt = cli.runtime()
    with rt.session() as session:
        assert accounts.get_user_by_username(session, "sophie.tremblay").must_change_password
    rt.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "boss"], "error: 'boss' is not a valid role (use one of: admin, analyst,"),
        (["--role", "sector_operator", "--sector", "mars"], "'mars' is not a valid sector"),
        (["--role", "sector_operator"], "error: a sector operator needs at least one sector"),
        (["--role", "analyst", "--sector", "water"], "only sector operators are scoped"),
        (["--role", "analyst", "--email", "nope"], "error: email: value is not a valid email"),
        (["--role", "analyst", "--timezone", "Mars/Base"], "unknown time zone 'Mars/Base'"),
    ],
)
def test_user_add_reports_bad_input_on_one_line(
    initialised: Cli, args: list[str], message: str
) -> None:
    result = initialised("user", "add", "new.user", *args, "--password", PASSWORD)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_user_errors(initialised: Cli) -> None:
    cli = initialised
    weak = cli("user", "add", "bob", "--role", "viewer", "--password", "bob12345678")
    assert weak.exit_code == 1 and weak.stderr.startswith("error: password too weak")
    bad_name = cli("user", "add", "Bad Name!", "--role", "viewer", "--password", PASSWORD)
    assert bad_name.exit_code == 1 and bad_name.stderr.startswith("error: username:")
    duplicate = cli("user", "add", "admin", "--role", "viewer", "--password", PASSWORD)
    assert duplicate.stderr == "error: user 'admin' already exists\n"
    missing = cli("user", "disable", "ghost")
    assert missing.exit_code == 1 and missing.stderr == "error: user 'ghost' does not exist\n"
    both = cli("user", "add", "bob", "--role", "viewer", "--password", PASSWORD, "--generate")
    assert both.exit_code == 2
    usage = cli("user", "add", "bob")  # --role is required
    assert usage.exit_code == 2 and "--role" in usage.stderr


def test_token_create_list_revoke(initialised: Cli) -> None:
    cli = initialised
    cli.ok("user", "add", "ana.lopez", "--role", "analyst", "--password", PASSWORD)
    made = cli.json(
        "token",
        "create",
        "--user",
        "ana.lopez",
        "--name",
        "SIEM",
        "--scope",
        "dashboard:view",
        "--scope",
        "audit:read",
        "--expires-days",
        "30",
    )
    raw = made["token"]
    assert raw.startswith(f"cs_{made['prefix']}_") and made["scopes"] == [
        "audit:read",
        "dashboard:view",
    ]
    rt = cli.runtime()
    with rt.session() as session:
        principal = accounts.principal_for_token(session, raw, ip=None, clock=rt.clock)
    assert principal is not None and principal.username == "ana.lopez"

    human = cli.ok(
        "token", "create", "-u", "admin", "-n", "backup", "-s", "jobs:manage", "--no-expiry"
    )
    assert "shown only once" in human.stdout and re.search(r"\bcs_[0-9a-f]{8}_\S+", human.stdout)
    listed = cli.json("token", "list")
    assert [t["name"] for t in listed["items"]] == ["backup", "SIEM"]
    assert all("token" not in t for t in listed["items"])
    assert [t["name"] for t in cli.json("token", "list", "--user", "ana.lopez")["items"]] == [
        "SIEM"
    ]
    assert "SIEM" in cli.ok("token", "list").stdout

    assert "revoked API token" in cli.ok("token", "revoke", str(made["id"])).stdout
    with rt.session() as session:
        assert accounts.principal_for_token(session, raw, ip=None, clock=rt.clock) is None
    rt.close()
    again = cli("token", "revoke", str(made["id"]))
    assert again.exit_code == 1 and "already revoked" in again.stderr
    assert len(cli.json("token", "list")["items"]) == 1
    assert len(cli.json("token", "list", "--all")["items"]) == 2


def test_token_errors(initialised: Cli) -> None:
    cli = initialised
    cli.ok("user", "add", "regidor.vista", "--role", "viewer", "--password", PASSWORD)
    bogus = cli("token", "create", "--user", "admin", "--name", "x", "--scope", "everything")
    assert bogus.exit_code == 1 and "'everything' is not a valid scope" in bogus.stderr
    beyond = cli(
        "token", "create", "--user", "regidor.vista", "--name", "x", "--scope", "users:manage"
    )
    assert beyond.exit_code == 1
    assert "scopes beyond what regidor.vista's role allows: users:manage" in beyond.stderr
    nobody = cli("token", "create", "--user", "ghost", "--name", "x", "--scope", "dashboard:view")
    assert nobody.stderr == "error: user 'ghost' does not exist\n"
    assert cli("token", "revoke", "999").stderr == "error: API token 999 does not exist\n"
