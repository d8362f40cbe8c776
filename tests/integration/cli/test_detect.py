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
