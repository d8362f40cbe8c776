"""`civicshield detect` on small rule trees and event files (no database needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.detect.rulefiles import rule_yaml, write_rule

from .conftest import Cli, cli_env

ID1 = "aaaaaaaa-1111-4111-8111-111111111111"
SYSMON = "Microsoft-Windows-Sysmon/Operational"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    return Cli(cli_env(tmp_path / "var", url), tmp_path / "var", url)


def setup_files(root: Path) -> tuple[Path, Path]:
    rules = root / "rules"
    write_rule(rules, "windows/ps.yml", rule_yaml(ID1, title="PowerShell start", level="high"))
    event = {"Channel": SYSMON, "EventID": 1, "Image": "C:\\Windows\\PowerShell.exe"}
    other = {"Channel": SYSMON, "EventID": 1, "Image": "C:\\Windows\\cmd.exe"}
    events = root / "events.jsonl"
    events.write_text(
        "\n".join([json.dumps(other), "{broken", json.dumps(event)]) + "\n", encoding="utf-8"
    )
    return rules, events


def test_jsonl_output_and_bad_line_reported(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records == [
        {
            "rule_id": ID1,
            "rule_title": "PowerShell start",
            "level": "high",
            "author": "CivicShield tests",
            "tags": ["attack.execution", "attack.t1059.001"],
            "source": str(events),
            "line": 3,
        }
    ]
    assert f"{events}:2: invalid JSON" in result.stderr
    assert "PowerShell start" in result.stderr  # summary


def test_unreadable_input_exits_1_after_the_others(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    out = tmp_path / "out.csv"
    missing = tmp_path / "missing.jsonl"
    result = cli(
        "detect",
        str(missing),
        str(events),
        "--rules",
        str(rules),
        "--format",
        "csv",
        "--output",
        str(out),
    )
    assert result.exit_code == 1
    assert "missing.jsonl" in result.stderr
    rows = out.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "rule_id,rule_title,level,author,tags,source,line"
    assert len(rows) == 2 and rows[1].endswith(",3")


def test_min_level_filters_rules(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    result = cli.ok("detect", str(events), "--rules", str(rules), "--min-level", "critical")
    assert "0 matches" in result.stderr


def test_output_that_cannot_be_written_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    result = cli("detect", str(events), "--rules", str(rules), "--output", str(tmp_path))
    assert result.exit_code == 1
    assert f"cannot write matches to {tmp_path}" in result.stderr
    assert "Traceback" not in result.stderr


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any YAML parsing fail the test: a warm run must not call the loader."""
    import civicshield.detect

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("the rule loader was called on a warm run")

    monkeypatch.setattr(civicshield.detect, "load_rules", boom)


def test_second_run_uses_the_compiled_rule_cache(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules, events = setup_files(tmp_path)
    write_rule(rules, "windows/other.yml", "title: broken\n")  # a load problem, also cached
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    cold = cli.ok(*args)
    assert "compiled rule cache: saved" in cold.stderr
    cached = list((cli.data_dir / "cache" / "compiled").glob("*.bin"))
    assert len(cached) == 1 and len(cached[0].stem) == 64

    _no_parsing(monkeypatch)
    warm = cli.ok(*args)
    assert "compiled rule cache: hit" in warm.stderr
    assert warm.stdout == cold.stdout and warm.stdout
    assert "warning: rule not loaded: windows/other.yml" in warm.stderr

    # the selection is applied after loading: the cached set still honours --min-level
    filtered = cli.ok(*args, "--min-level", "critical")
    assert "compiled rule cache: hit" in filtered.stderr
    assert filtered.stdout == "" and "0 matches" in filtered.stderr


def test_no_cache_rebuilds_and_changed_rules_miss(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    first = cli.ok(*args)
    rebuilt = cli.ok(*args, "--no-cache")
    assert "compiled rule cache: hit" not in rebuilt.stderr
    assert "compiled rule cache: saved" in rebuilt.stderr
    assert rebuilt.stdout == first.stdout

    write_rule(rules, "windows/ps.yml", rule_yaml(ID1, title="Renamed rule", level="high"))
    changed = cli.ok(*args)
    assert "compiled rule cache: saved" in changed.stderr
    assert json.loads(changed.stdout)["rule_title"] == "Renamed rule"
    assert len(list((cli.data_dir / "cache" / "compiled").glob("*.bin"))) == 2


def test_corrupt_cache_is_rebuilt(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    first = cli.ok(*args)
    [cached] = (cli.data_dir / "cache" / "compiled").glob("*.bin")
    cached.write_bytes(b"garbage")
    again = cli.ok(*args)
    assert "ignoring unreadable compiled rule cache" in again.stderr
    assert again.stdout == first.stdout
    assert "compiled rule cache: hit" in cli.ok(*args).stderr
