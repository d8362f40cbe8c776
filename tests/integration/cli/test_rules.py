"""`civicshield rules update|list|show|validate` on small rule trees (no database needed)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from tests.unit.detect.rulefiles import rule_yaml, write_rule

from .conftest import Cli, cli_env

ID1 = "aaaaaaaa-1111-4111-8111-111111111111"
ID2 = "bbbbbbbb-2222-4222-8222-222222222222"
ID3 = "cccccccc-3333-4333-8333-333333333333"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The rules commands need no database: one run, on a SQLite URL nothing opens."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    return Cli(cli_env(tmp_path / "var", url), tmp_path / "var", url)


def make_tree(root: Path) -> Path:
    write_rule(root, "windows/proc/ps.yml", rule_yaml(ID1, title="PowerShell start", level="high"))
    write_rule(
        root,
        "linux/dump.yml",
        rule_yaml(ID2, title="Credential dump", level="low", tags=("attack.t1003",)),
    )
    write_rule(root, "deprecated/old.yml", rule_yaml(ID3, title="Old rule", level="critical"))
    return root


def test_list_shows_enabled_rules_and_counts(cli: Cli, tmp_path: Path) -> None:
    tree = str(make_tree(tmp_path / "rules"))
    out = cli.ok("rules", "list", "--rules", tree).stdout
    assert "PowerShell start" in out and "Credential dump" in out
    assert "Old rule" not in out
    assert "2 of 3 rules" in out and "high 1" in out

    data = cli.json("rules", "list", "--rules", tree, "--include-deprecated")
    assert data["total"] == 3 and data["by_level"]["critical"] == 1
    data = cli.json("rules", "list", "--rules", tree, "--level", "medium")
    assert [r["id"] for r in data["rules"]] == [ID1]
    data = cli.json("rules", "list", "--rules", tree, "--tag", "attack.t1003")
    assert [r["id"] for r in data["rules"]] == [ID2]
    data = cli.json("rules", "list", "--rules", tree, "--folder", "windows/*", "--status", "test")
    assert [r["file"] for r in data["rules"]] == ["windows/proc/ps.yml"]


def test_list_reads_the_feeds_path_by_default(cli: Cli, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    make_tree(feeds / "sigma" / "rules")
    data = cli.json("rules", "list", env={"CIVICSHIELD_FEEDS_PATH": str(feeds)})
    assert data["total"] == 2


def test_missing_rules_say_what_is_missing(cli: Cli, tmp_path: Path) -> None:
    result = cli("rules", "list", env={"CIVICSHIELD_FEEDS_PATH": str(tmp_path)})
    assert result.exit_code == 1
    assert "no SigmaHQ rules found under" in result.stderr
    assert "CIVICSHIELD_FEEDS_PATH or pass --rules" in result.stderr
    result = cli("rules", "validate", "--rules", str(tmp_path / "none"))
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_show_by_id_file_name_and_path(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    out = cli.ok("rules", "show", ID1, "--rules", str(tree)).stdout
    assert "PowerShell start" in out and "T1059.001" in out and "condition: selection" in out
    data = cli.json("rules", "show", "dump.yml", "--rules", str(tree))
    assert data["id"] == ID2 and data["yaml"].startswith("title: Credential dump")
    data = cli.json("rules", "show", str(tree / "deprecated" / "old.yml"))
    assert data["id"] == ID3
    result = cli("rules", "show", "nothing-here", "--rules", str(tree))
    assert result.exit_code == 1 and "no rule with id or file" in result.stderr


def test_validate_reports_each_problem_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "rules")
    ok = cli.ok("rules", "validate", "--rules", str(tree))
    assert "3 files, 3 rules, 0 problems" in ok.stdout

    write_rule(tree, "bad/syntax.yml", "title: x\ndetection:\n  sel: [a\n")
    modifier = rule_yaml(ID2[:-1] + "9", field="Image|nope")
    write_rule(tree, "bad/modifier.yml", modifier)
    line = next(n for n, text in enumerate(modifier.splitlines(), 1) if "Image|nope" in text)
    result = cli("rules", "validate", "--rules", str(tree))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("bad/syntax.yml:") and "YAML syntax error" in line for line in lines)
    assert any(row.startswith(f"bad/modifier.yml:{line}: ") and "nope" in row for row in lines)
    assert "5 files, 3 rules, 2 problems" in result.stderr

    data = cli("rules", "validate", "--rules", str(tree), "--json")
    assert data.exit_code == 1
    assert '"problems"' in data.stdout


def test_update_from_a_zip_installs_and_list_uses_it(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src")
    archive = tmp_path / "sigma_all_rules.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(tree.rglob("*.yml")):
            bundle.write(path, path.relative_to(tree).as_posix())
    out = cli.ok("rules", "update", "--from", str(archive)).stdout
    installed = cli.data_dir / "rules" / "sigmahq"
    assert str(installed) in out and "files: 3" in out and "3 rules parsed" in out
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert digest in out

    data = cli.json("rules", "list", env={"CIVICSHIELD_FEEDS_PATH": str(tmp_path / "none")})
    assert data["total"] == 2  # the installed pack, deprecated rule left out
    assert {r["file"] for r in data["rules"]} == {"windows/proc/ps.yml", "linux/dump.yml"}

    result = cli("rules", "update", "--from", str(archive), "--sha256", "0" * 64)
    assert result.exit_code == 1 and "checksum mismatch" in result.stderr


def test_update_from_a_folder_reports_problems(cli: Cli, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src")
    write_rule(tree, "bad/syntax.yml", "title: x\ndetection:\n  sel: [a\n")
    data = cli.json("rules", "update", "--from", str(tree))
    assert data["files"] == 4 and data["rules"] == 3 and len(data["sha256"]) == 64
    assert [p["file"] for p in data["problems"]] == ["bad/syntax.yml"]
    result = cli.ok("rules", "update", "--from", str(tree))
    assert "bad/syntax.yml:" in result.stderr and "1 problems" in result.stderr

    # The installed pack beats the feeds path; --rules beats both.
    feeds = tmp_path / "feeds"
    write_rule(feeds / "sigma" / "rules", "only.yml", rule_yaml(ID1, title="Feeds rule"))
    env = {"CIVICSHIELD_FEEDS_PATH": str(feeds)}
    assert cli.json("rules", "list", env=env)["total"] == 2
    assert cli.json("rules", "list", "--rules", str(feeds), env=env)["total"] == 1


def test_update_refuses_a_zip_slip_archive(cli: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../evil.yml", rule_yaml(ID1))
    result = cli("rules", "update", "--from", str(archive))
    assert result.exit_code == 1 and "outside the pack" in result.stderr
    assert not (cli.data_dir / "rules" / "sigmahq").exists()
