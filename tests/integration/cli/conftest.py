"""Run the `civicshield` CLI in-process (Typer's CliRunner) against a temporary data dir and
the `any_db_url` database (SQLite, and PostgreSQL when the harness can start it)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from civicshield.cli import app
from civicshield.runtime import Runtime, build_runtime
from tests.conftest import test_settings

SECRET = "test-secret-key-0123456789abcdef"
ADMIN_PASSWORD = "Ayuntamiento-Seguro-2026"


class Cli:
    """`cli("user", "list")` runs one command; `cli.json(...)` also checks exit 0 and parses."""

    def __init__(self, env: dict[str, str | None], data_dir: Path, db_url: str) -> None:
        self.env = env
        self.data_dir = data_dir
        self.db_url = db_url
        self.runner = CliRunner()

    def __call__(
        self, *args: str, input: str | None = None, env: Mapping[str, str | None] | None = None
    ) -> Result:
        result = self.runner.invoke(app, list(args), input=input, env={**self.env, **(env or {})})
        assert "Traceback" not in result.stderr, result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, f"exit {result.exit_code}\n{result.output}"
        return result

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.ok(*args, "--json", **kwargs).stdout)

    def runtime(self) -> Runtime:
        """A runtime on the same database, for checking what the CLI did."""
        return build_runtime(test_settings(self.data_dir, database_url=self.db_url))


def cli_env(data_dir: Path, db_url: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CIVICSHIELD_")}
    env.update(
        {
            "CIVICSHIELD_DATA_DIR": str(data_dir),
            "CIVICSHIELD_DATABASE_URL": db_url,
            "CIVICSHIELD_SECRET_KEY": SECRET,
            "CIVICSHIELD_ENVIRONMENT": "test",
            "CIVICSHIELD_ARGON2_TIME_COST": "1",
            "CIVICSHIELD_ARGON2_MEMORY_KIB": "8",
            "CIVICSHIELD_WORKER_IN_PROCESS": "false",
            "CIVICSHIELD_RULE_PACK_ENABLED": "false",  # as make_settings: rule counts are ours
            "CIVICSHIELD_SEGMENTATION_ENABLED": "false",
            "USER": "tester",
            "COLUMNS": "200",
        }
    )
    return env


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures the `civicshield` logger (on a stream CliRunner closes afterwards)."""
    logger = logging.getLogger("civicshield")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture
def cli(tmp_path: Path, any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)  # no stray ./.env, relative paths land in the test's folder
    return Cli(cli_env(tmp_path / "var", any_db_url), tmp_path / "var", any_db_url)


@pytest.fixture
def initialised(cli: Cli) -> Cli:
    """`civicshield init` done, with the administrator password ADMIN_PASSWORD."""
    cli.ok("init", env={"CIVICSHIELD_ADMIN_PASSWORD": ADMIN_PASSWORD})
    return cli
