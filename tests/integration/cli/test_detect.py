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


ID2 = "aaaaaaaa-2222-4222-8222-222222222222"
ID3 = "aaaaaaaa-3333-4333-8333-333333333333"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ((), {ID1, ID2}),
        (("--include-deprecated",), {ID1, ID2, ID3}),
        (("--folder", "custom"), {ID2}),
        (("--exclude-folder", "windows"), {ID2}),
        (("--status", "stable"), {ID2}),
        (("--tag", "attack.t1059*"), {ID1}),
        (("--min-level", "high"), {ID1}),
        (("--folder", "deprecated"), {ID3}),  # asking for it beats the default exclusion
    ],
)
def test_selection_options_share_one_cache(
    cli: Cli, tmp_path: Path, options: tuple[str, ...], expected: set[str]
) -> None:
    rules, events = setup_files(tmp_path)
    write_rule(
        rules,
        "custom/ps.yml",
        rule_yaml(ID2, level="medium", status="stable", tags=("attack.t1204",)),
    )
    write_rule(rules, "deprecated/ps.yml", rule_yaml(ID3, level="high"))
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    cli.ok(*args)  # fills the cache
    result = cli.ok(*args, *options)
    assert "compiled rule cache: hit" in result.stderr
    assert {json.loads(line)["rule_id"] for line in result.stdout.splitlines()} == expected
    assert len(list((cli.data_dir / "cache" / "compiled").glob("*.bin"))) == 1


def test_unknown_level_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    result = cli("detect", str(events), "--rules", str(rules), "--min-level", "huge")
    assert result.exit_code != 0
    assert "huge" in result.stderr


def test_mapping_names_are_the_engines() -> None:
    from civicshield.cli._selection import MAPPING_NAMES
    from civicshield.detect.engine.mappings import MAPPINGS

    assert set(MAPPING_NAMES) == set(MAPPINGS)


def test_winlogbeat_mapping_has_its_own_cache(cli: Cli, tmp_path: Path) -> None:
    rules, _ = setup_files(tmp_path)
    events = tmp_path / "beats.jsonl"
    beat = {"winlog": {"channel": SYSMON, "event_id": 1}}
    lines = [
        {**beat, "winlog": {**beat["winlog"], "event_data": {"Image": "C:\\x\\powershell.exe"}}},
        {"Channel": SYSMON, "EventID": 1, "Image": "C:\\x\\powershell.exe"},  # native shape
    ]
    events.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    native = cli.ok(*args)
    assert [json.loads(line)["line"] for line in native.stdout.splitlines()] == [2]
    for _ in range(2):  # cold, then warm from its own cache file
        beats = cli.ok(*args, "--mapping", "winlogbeat")
        assert [json.loads(line)["line"] for line in beats.stdout.splitlines()] == [1]
    assert "compiled rule cache: hit" in beats.stderr
    assert len(list((cli.data_dir / "cache" / "compiled").glob("*.bin"))) == 2


def test_unknown_mapping_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    rules, events = setup_files(tmp_path)
    result = cli("detect", str(events), "--rules", str(rules), "--mapping", "macos")
    assert result.exit_code == 2
    assert "unknown mapping 'macos'" in result.stderr


def test_warm_run_does_not_import_pysigma(tmp_path: Path) -> None:
    """Start-up cost: a cache hit must not import pySigma (a separate interpreter, since this
    one has imported it already)."""
    import subprocess
    import sys

    rules, events = setup_files(tmp_path)
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from civicshield.cli import app\n"
        "result = CliRunner().invoke(app, sys.argv[1:])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(any(m == 'sigma' or m.startswith('sigma.') for m in sys.modules))\n"
    )
    env = {k: v for k, v in cli_env(tmp_path / "var", "sqlite://").items() if v is not None}
    args = [sys.executable, "-c", code, "detect", str(events), "--rules", str(rules)]
    runs = [
        subprocess.run(
            args, env=env, capture_output=True, text=True, check=True, cwd=Path.cwd()
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]  # cold: parsed with pySigma; warm: from the cache
