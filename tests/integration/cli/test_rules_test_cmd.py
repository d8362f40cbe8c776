"""`civicshield rules test`, the rule selection options (`--folder`, `--exclude-folder`,
`--status`, `--tag`, `--min-level`) and `rules validate --compile --report`, on small rule
trees and event files built in tmp_path (no database needed)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from civicshield.cli._selection import selection_from_options
from civicshield.core import Invalid, Severity
from tests.unit.detect.rulefiles import rule_yaml, write_rule

from .conftest import Cli, cli_env

ID1 = "aaaaaaaa-1111-4111-8111-111111111111"
ID2 = "bbbbbbbb-2222-4222-8222-222222222222"
ID3 = "cccccccc-3333-4333-8333-333333333333"
ID_KEYWORD = "ffffffff-6666-4666-8666-666666666666"
SYSMON = "Microsoft-Windows-Sysmon/Operational"

LINUX_RULE = """title: Linux shell
id: eeeeeeee-5555-4555-8555-555555555555
status: test
author: CivicShield tests
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: '/bash'
    condition: selection
level: low
"""

KEYWORD_RULE = """title: Mimikatz keyword
id: ffffffff-6666-4666-8666-666666666666
status: test
author: CivicShield tests
logsource:
    product: windows
    service: security
detection:
    keywords:
        - 'sekurlsa'
    condition: keywords
level: high
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    env = cli_env(tmp_path / "var", url)
    env["CIVICSHIELD_FEEDS_PATH"] = str(tmp_path / "no-feeds")  # --rules or a file only
    return Cli(env, tmp_path / "var", url)


def make_tree(root: Path) -> Path:
    write_rule(root, "windows/proc/ps.yml", rule_yaml(ID1, title="PowerShell start", level="high"))
    write_rule(
        root,
        "windows/proc/dump.yml",
        rule_yaml(
            ID2,
            title="Credential dump",
            level="low",
            tags=("attack.t1003",),
            field="OriginalFileName|endswith",
        ),
    )
    write_rule(root, "deprecated/old.yml", rule_yaml(ID3, title="Old start", status="deprecated"))
    write_rule(root, "linux/shell.yml", LINUX_RULE)
    write_rule(root, "windows/security/keyword.yml", KEYWORD_RULE)
    return root


def proc(image: str, **extra: object) -> str:
    return json.dumps({"Channel": SYSMON, "EventID": 1, "Image": image, **extra})


def write_events(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- rules test -----------------------------------------------------------------------------


def test_by_id_prints_each_match_with_the_fields_it_reads(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    events = write_events(
        tmp_path / "events.jsonl",
        [
            proc("C:\\Windows\\cmd.exe"),
            "{broken",
            proc("C:\\Windows\\PowerShell.exe", CommandLine="powershell -enc x"),
            json.dumps({"Channel": "Security", "EventID": 1, "Image": "x\\powershell.exe"}),
        ],
    )
    result = cli.ok("rules", "test", ID1, str(events), "--rules", str(tree), "--format", "jsonl")
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
            # the rule's own field and the route's; CommandLine is not read by the rule
            "fields": {"Channel": SYSMON, "EventID": "1", "Image": "C:\\Windows\\PowerShell.exe"},
        }
    ]
    assert f"{events}:2: invalid JSON" in result.stderr
    assert "1 matches in 3 events from 1 files, 1 bad lines skipped" in result.stderr


def test_by_title_substring_as_a_table_and_zero_matches_exit_0(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    events = write_events(tmp_path / "e.jsonl", [proc("C:\\x\\powershell.exe")])
    table = cli.ok("rules", "test", "powershell sta", str(events), "--rules", str(tree)).stdout
    assert "Image=C:\\x\\powershell.exe" in table and "e.jsonl" in table

    none = cli.ok("rules", "test", "credential DUMP", str(events), "--rules", str(tree))
    assert "0 matches in 1 events" in none.stderr

    ambiguous = cli("rules", "test", "start", str(events), "--rules", str(tree))
    assert ambiguous.exit_code == 1 and "matches 2 rules" in ambiguous.stderr


def test_a_yml_path_is_loaded_alone_and_gzip_input_is_read(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    events = tmp_path / "e.jsonl.gz"
    events.write_bytes(gzip.compress((proc("C:\\a\\powershell.exe") + "\n").encode()))
    rule = tree / "windows" / "proc" / "ps.yml"
    result = cli.ok("rules", "test", str(rule), str(events), "--format", "jsonl")
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1]


def test_keyword_rule_shows_the_raw_event(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    hit = json.dumps({"Channel": "Security", "EventID": 4688, "CommandLine": "sekurlsa::x"})
    events = write_events(tmp_path / "e.jsonl", [proc("a.exe"), hit])
    result = cli.ok(
        "rules", "test", "Mimikatz", str(events), "--rules", str(tree), "--format", "jsonl"
    )
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["line"] == 2 and record["event"] == hit
    assert record["fields"] == {"Channel": "Security"}


def test_a_rule_that_cannot_be_compiled_exits_1_with_its_reason(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    events = write_events(tmp_path / "e.jsonl", [proc("/bin/bash")])
    result = cli("rules", "test", "linux/shell.yml", str(events), "--rules", str(tree))
    assert result.exit_code == 1
    assert "linux/shell.yml" in result.stderr and "cannot be compiled" in result.stderr
    assert "linux" in result.stderr.split("cannot be compiled", 1)[1]


def test_unreadable_input_exits_1_after_the_readable_rest(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    good = write_events(tmp_path / "good.jsonl", [proc("C:\\powershell.exe")])
    fake_evtx = tmp_path / "fake.evtx"
    fake_evtx.write_bytes(b"not an event log at all" * 10)
    missing = tmp_path / "missing.jsonl"
    result = cli(
        "rules",
        "test",
        ID1,
        str(missing),
        str(fake_evtx),
        str(good),
        "--rules",
        str(tree),
        "--format",
        "jsonl",
    )
    assert result.exit_code == 1
    assert [json.loads(line)["source"] for line in result.stdout.splitlines()] == [str(good)]
    assert f"cannot read {missing}" in result.stderr and f"cannot read {fake_evtx}" in result.stderr
    assert "2 input file(s) could not be read" in result.stderr


def test_unknown_format_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    events = write_events(tmp_path / "e.jsonl", [proc("a.exe")])
    result = cli("rules", "test", ID1, str(events), "--rules", str(tree), "--format", "csv")
    assert result.exit_code == 2 and "unknown format" in result.stderr


# --- selection options ----------------------------------------------------------------------


def test_selection_from_options_defaults_and_requests() -> None:
    default = selection_from_options()
    assert "deprecated" in default.exclude_folders and "deprecated" in default.exclude_statuses
    asked = selection_from_options(
        folders=["deprecated/windows/"],
        statuses=["Deprecated"],
        exclude_folders=["windows/proc"],
        tags=["attack.T1003"],
        min_level="medium",
    )
    assert asked.folders == ("deprecated/windows",)
    assert asked.statuses == frozenset({"deprecated"})
    assert "deprecated" not in asked.exclude_folders
    assert "unsupported" in asked.exclude_folders and "windows/proc" in asked.exclude_folders
    assert asked.min_level is Severity.MEDIUM and asked.tags == ("attack.T1003",)
    everything = selection_from_options(include_deprecated=True, exclude_folders=["linux"])
    assert everything.exclude_folders == ("linux",) and not everything.exclude_statuses
    with pytest.raises(Invalid):
        selection_from_options(min_level="urgent")


def test_list_selection_options(cli: Cli, tmp_path: Path) -> None:
    tree = str(make_tree(tmp_path / "rules"))

    def ids(*options: str) -> set[str]:
        data = cli.json("rules", "list", "--rules", tree, *options)
        return {r["id"] for r in data["rules"]}

    assert ids("--folder", "windows", "--exclude-folder", "windows/security") == {ID1, ID2}
    assert ids("--folder", "windows/*", "--min-level", "high") == {ID1, ID_KEYWORD}
    assert ids("--level", "high", "--tag", "attack.t1059*") == {ID1}
    assert ids("--status", "deprecated") == {ID3}  # asking for the status lifts the folder too
    assert ids("--folder", "deprecated") == {ID3}
    assert ID3 in ids("--include-deprecated")
    bad = cli("rules", "list", "--rules", tree, "--min-level", "urgent")
    assert bad.exit_code == 1 and "urgent" in bad.stderr


# --- validate --compile ---------------------------------------------------------------------


def test_validate_compile_lists_uncompilable_rules_and_writes_a_report(
    cli: Cli, tmp_path: Path
) -> None:
    tree = make_tree(tmp_path / "rules")
    report = tmp_path / "out" / "report.md"
    # the Windows mapping cannot run the Linux rule (the default, combined, can: below)
    result = cli(
        "rules", "validate", "--rules", str(tree), "--mapping", "windows", "--report", str(report)
    )
    assert result.exit_code == 1
    assert any(
        line.startswith("linux/shell.yml: not compiled: ") for line in result.stdout.splitlines()
    )
    assert "4 of 5 rules compile (80.0%)" in result.stderr

    text = report.read_text(encoding="utf-8")
    assert "civicshield rules validate --compile --rules" in text and "--report" in text
    assert "--mapping windows" in text
    assert "| Non-deprecated rules compiled | 3 of 4 (75.0%) |" in text
    assert "| `linux` | 1 | 0 | 1 |" in text
    [row] = [line for line in text.splitlines() if line.startswith("| `linux/shell.yml`")]
    assert "eeeeeeee-5555-4555-8555-555555555555" in row and "Linux shell" in row
    assert row.endswith("| no |")

    # the selection narrows what is compiled; everything compiles: exit 0
    ok = cli.ok("rules", "validate", "--rules", str(tree), "--compile", "--folder", "windows")
    assert "3 of 3 rules compile" in ok.stdout
    combined = cli.ok("rules", "validate", "--rules", str(tree), "--compile")
    assert "5 of 5 rules compile" in combined.stdout + combined.stderr

    data = json.loads(
        cli(
            "rules", "validate", "--rules", str(tree), "--compile", "--mapping", "windows", "--json"
        ).stdout
    )
    assert data["compile"]["compiled"] == 4
    assert [u["file"] for u in data["compile"]["unsupported"]] == ["linux/shell.yml"]
