"""Errors are one red `error: …` line on stderr with exit code 1 (2 for usage), never a
traceback; every command has --help; global options reach the settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from civicshield import accounts
from civicshield.cli import app
from tests.harness import free_port

from .conftest import ADMIN_PASSWORD, Cli


def all_commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(cmd: object, path: list[str]) -> None:
        found.append(path)
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def assert_one_error_line(result: object, *fragments: str) -> str:
    stderr: str = result.stderr  # type: ignore[attr-defined]
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    for fragment in fragments:
        assert fragment in stderr
    return stderr


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: " ".join(c) or "root")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.stdout


def test_malformed_setting(cli: Cli) -> None:
    result = cli("user", "list", env={"CIVICSHIELD_PORT": "abc"})
    assert_one_error_line(result, "error: invalid configuration: CIVICSHIELD_PORT:", "integer")


@pytest.mark.parametrize("how", ["env", "option"])
def test_unsupported_database_url(cli: Cli, how: str) -> None:
    if how == "env":
        result = cli("user", "list", env={"CIVICSHIELD_DATABASE_URL": "mysql://x"})
    else:
        result = cli("--database-url", "mysql://x", "init")
    assert_one_error_line(result, "CIVICSHIELD_DATABASE_URL", "sqlite:// or postgresql://")


@pytest.mark.parametrize("command", [["init"], ["user", "list"], ["db", "upgrade"], ["demo"]])
def test_unreachable_postgresql(cli: Cli, command: list[str]) -> None:
    url = f"postgresql+psycopg://civic:hunter2-secret@127.0.0.1:{free_port()}/civicshield"
    result = cli(*command, env={"CIVICSHIELD_DATABASE_URL": url})
    stderr = assert_one_error_line(result, "cannot connect to the database", "civic:***@127.0.0.1")
    assert "hunter2" not in stderr


def test_not_initialised(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    result = cli("--data-dir", str(empty), "user", "list", env={"CIVICSHIELD_DATABASE_URL": None})
    assert_one_error_line(result, f"no database at {empty / 'civicshield.db'}", "civicshield init")
    assert not empty.exists()
    # The configured database exists (PostgreSQL) or not (SQLite): either way, run init.
    assert_one_error_line(cli("audit", "verify"), "civicshield init")


def test_global_data_dir_option(cli: Cli, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    env = {"CIVICSHIELD_DATABASE_URL": None}
    cli.ok("--data-dir", str(elsewhere), "init", "--admin-password", ADMIN_PASSWORD, env=env)
    assert (elsewhere / "civicshield.db").is_file()
    users = cli.json("--data-dir", str(elsewhere), "user", "list", env=env)
    assert [u["username"] for u in users["items"]] == ["admin"]


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli("user", "frobnicate").exit_code == 2
    assert cli("user", "list", "--bogus").exit_code == 2
    assert cli("token", "revoke", "not-a-number").exit_code == 2


def test_unexpected_errors_are_one_line_and_verbose_shows_the_traceback(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(accounts, "list_users", boom)
    assert_one_error_line(
        initialised("user", "list"), "unexpected RuntimeError: disk on fire", "--verbose"
    )
    verbose = CliRunner().invoke(app, ["-v", "user", "list"], env=initialised.env)
    assert verbose.exit_code == 1
    assert "Traceback" in verbose.stderr and "error: unexpected RuntimeError" in verbose.stderr


def test_serve_refuses_an_unmigrated_database(cli: Cli) -> None:
    cli.ok("db", "current")  # reachable, but nothing migrated yet
    result = cli("serve", "--port", str(free_port()))
    assert_one_error_line(result, "civicshield init")
