"""`civicshield.cli.main` builds an app holding only the command named in argv (start-up time);
it must behave exactly as the full command tree does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicshield.cli import COMMANDS, command_name, full_app, single_app
from tests.integration.cli.conftest import cli_env
from tests.integration.cli.test_detect import setup_files


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["detect", "x.jsonl"], "detect"),
        (["--data-dir", "/tmp/d", "-v", "detect"], "detect"),
        (["--data-dir=/tmp/d", "--database-url", "sqlite://", "intel", "list"], "intel"),
        (["--verbose", "version", "--json"], "version"),
        (["--database-url", "detect", "version"], "version"),  # "detect" is the option's value
        ([], None),
        (["--help"], None),
        (["-h", "detect"], None),
        (["detec"], None),  # a typo: the full tree suggests "detect"
        (["--unknown", "detect"], None),
        (["--data-dir"], None),
    ],
)
def test_command_name(args: list[str], name: str | None) -> None:
    assert command_name(args) == name


@pytest.mark.parametrize("name", list(COMMANDS))
def test_one_command_app_has_the_same_help(name: str) -> None:
    runner = CliRunner()
    whole = runner.invoke(full_app(), [name, "--help"], terminal_width=100)
    alone = runner.invoke(single_app(name), [name, "--help"], terminal_width=100)
    assert whole.exit_code == alone.exit_code == 0, whole.output
    assert alone.output == whole.output


def test_full_tree_lists_every_command() -> None:
    result = CliRunner().invoke(full_app(), ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f" {name} " in result.output, name


def _script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.argv[0] = 'civicshield'; from civicshield.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=Path.cwd()
    )


def test_the_script_runs_one_command_without_loading_the_others(tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env(tmp_path / "var", "sqlite://").items() if v is not None}
    code = (
        "import sys; sys.argv[0] = 'civicshield'\n"
        "from civicshield.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(sorted(m for m in sys.modules if m.startswith('civicshield.cli.')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "version"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.strip().splitlines()[-1]
    assert "civicshield.cli.root" in loaded
    assert "civicshield.cli.detect" not in loaded and "civicshield.cli.intel" not in loaded

    typo = _script("detec", env=env)
    assert typo.returncode == 2 and "Did you mean 'detect'" in typo.stderr
    version = _script("--verbose", "version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("civicshield ")


def test_detect_ends_without_teardown_and_loses_nothing(tmp_path: Path) -> None:
    # `detect` leaves with os._exit (QUICK_EXIT): its output file, the summary on stderr and
    # the exit status must still be complete.
    rules, events = setup_files(tmp_path)
    env = {k: v for k, v in cli_env(tmp_path / "var", "sqlite://").items() if v is not None}
    out = tmp_path / "matches.jsonl"
    args = ["detect", str(events), "--rules", str(rules), "--format", "jsonl"]
    done = _script(*args, "--output", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "matches from" in done.stderr  # the summary's last line
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert written and all({"rule_id", "line", "source"} <= set(m) for m in written)
    to_stdout = _script(*args, env=env)
    assert [json.loads(line) for line in to_stdout.stdout.splitlines()] == written
    missing = _script(*args, str(tmp_path / "absent.jsonl"), env=env)
    assert missing.returncode == 1 and "could not be read" in missing.stderr
    assert [json.loads(line) for line in missing.stdout.splitlines()] == written
