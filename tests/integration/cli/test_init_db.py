"""`civicshield init`, `db …` and `version`."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from civicshield import accounts, migrations
from civicshield.core import Role
from tests.conftest import PASSWORD

from .conftest import ADMIN_PASSWORD, Cli, cli_env


def login(cli: Cli, username: str, password: str) -> accounts.LoginResult:
    rt = cli.runtime()
    try:
        with rt.session() as session:
            return accounts.authenticate(
                session,
                username=username,
                password=password,
                ip=None,
                clock=rt.clock,
                config=rt.accounts,
            )
    finally:
        rt.close()


def test_init_twice_creates_one_admin_with_a_password_shown_once(cli: Cli) -> None:
    first = cli.ok("init")
    match = re.search(r"shown only once:\s+(\S+)", first.stdout)
    assert match, first.stdout
    password = match.group(1)
    assert login(cli, "admin", password).username == "admin"

    second = cli.ok("init")
    assert "no administrator created" in second.stdout
    assert password not in second.stdout
    users = cli.json("user", "list")
    assert [u["username"] for u in users["items"]] == ["admin"]
    assert users["items"][0]["role"] == Role.ADMIN.value
    entries = cli.json("audit", "list")
    assert [(e["action"], e["actor"]) for e in entries["items"]] == [
        ("auth.login", "admin"),  # the check above
        ("user.create", "cli:tester"),
    ]


def test_init_json_with_chosen_password_from_the_environment(cli: Cli) -> None:
    data = cli.json("init", env={"CIVICSHIELD_ADMIN_PASSWORD": ADMIN_PASSWORD})
    assert data["admin_created"] is True and data["admin_username"] == "admin"
    assert data["admin_password"] is None  # chosen, so not echoed back
    assert data["revision"] == migrations.head_revision()
    assert login(cli, "admin", ADMIN_PASSWORD).username == "admin"
    again = cli.json("init")
    assert again["admin_created"] is False
    assert again["revision_before"] == again["revision"] == migrations.head_revision()


def test_init_creates_a_private_secret_key_file_when_none_is_configured(
    tmp_path: Path, any_db_url: str, cli: Cli
) -> None:
    data_dir = tmp_path / "fresh"
    env = {"CIVICSHIELD_SECRET_KEY": None, "CIVICSHIELD_DATA_DIR": str(data_dir)}
    cli.ok("init", "--admin-password", PASSWORD, env=env)
    key = data_dir / "secret.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    content = key.read_text()
    assert len(content) >= 48
    cli.ok("init", env=env)
    assert key.read_text() == content  # kept on the second run


def test_init_refuses_a_weak_admin_password(cli: Cli) -> None:
    result = cli("init", "--admin-password", "short")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: password too weak")
    assert cli.json("user", "list")["total"] == 0


def test_db_current_and_upgrade(cli: Cli) -> None:
    head = migrations.head_revision()
    before = cli.json("db", "current")
    assert before["current"] is None and before["head"] == head and not before["up_to_date"]
    upgraded = cli.json("db", "upgrade")
    assert upgraded == {"database": upgraded["database"], "revision_before": None, "revision": head}
    assert "already at the head revision" in cli.ok("db", "upgrade").stdout
    assert cli.json("db", "current")["up_to_date"] is True
    assert "up to date" in cli.ok("db", "current").stdout


def test_db_check_needs_no_configuration(tmp_path: Path) -> None:
    cli = Cli(cli_env(tmp_path / "absent", "sqlite://"), tmp_path / "absent", "sqlite://")
    result = cli.ok(
        "db", "check", env={"CIVICSHIELD_PORT": "abc", "CIVICSHIELD_DATABASE_URL": "mysql://nope"}
    )
    assert "models and migrations agree" in result.stdout
    assert not (tmp_path / "absent").exists()


def test_db_check_fails_with_the_differences(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        migrations,
        "check_models_match",
        lambda url: "[('add_column', None, 'user_account', 'nickname')]",
    )
    result = cli("db", "check")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: models and migrations disagree")
    assert "nickname" in result.stderr


def test_db_revision_refuses_when_nothing_changed(cli: Cli) -> None:
    versions = Path(migrations.__file__).parent / "versions"
    before = sorted(versions.iterdir())
    result = cli("db", "revision", "-m", "nothing")
    assert result.exit_code == 1
    assert "the models match the migrations; nothing to generate" in result.stderr
    assert sorted(versions.iterdir()) == before


def test_version(cli: Cli) -> None:
    assert cli.ok("version").stdout.startswith("civicshield 0.1.0")
    assert cli.json("version")["version"] == "0.1.0"
