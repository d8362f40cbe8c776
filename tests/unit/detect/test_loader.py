"""load_rules: rules parse with pySigma, every bad file is a problem with file/line/reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.core import RuleError, Severity
from civicshield.detect import load_rules
from civicshield.detect.sigma import attack_tactics, attack_techniques

from .rulefiles import rule_yaml, write_rule

ID1 = "11111111-1111-4111-8111-111111111111"
ID2 = "22222222-2222-4222-8222-222222222222"


def test_a_valid_rule_is_loaded_with_its_metadata(tmp_path: Path) -> None:
    write_rule(tmp_path, "windows/proc/a.yml", rule_yaml(ID1, title="PowerShell"))
    report = load_rules([tmp_path])
    assert report.ok and report.files == 1
    (rule,) = report.rules
    assert rule.id == ID1
    assert rule.title == "PowerShell"
    assert rule.level is Severity.HIGH
    assert rule.status == "test"
    assert rule.author == "CivicShield tests"
    assert rule.tags == ("attack.execution", "attack.t1059.001")
    assert rule.techniques == ("T1059.001",)
    assert rule.tactics == ("execution",)
    assert (rule.product, rule.category, rule.service) == ("windows", "process_creation", None)
    assert rule.path == "windows/proc/a.yml"
    assert rule.source == (tmp_path / "windows/proc/a.yml").resolve()
    assert rule.kind == "rule" and not rule.is_correlation and not rule.deprecated
    assert rule.sigma is not None
    assert rule.to_dict()["level"] == "high"


def test_yaml_and_yml_files_are_found_and_hidden_folders_skipped(tmp_path: Path) -> None:
    write_rule(tmp_path, "a.yaml", rule_yaml(ID1))
    write_rule(tmp_path, "b.yml", rule_yaml(ID2))
    write_rule(tmp_path, ".git/c.yml", "not: [valid")
    write_rule(tmp_path, "notes.txt", "ignored")
    report = load_rules([tmp_path])
    assert report.ok
    assert [r.path for r in report.rules] == ["a.yaml", "b.yml"]


def test_a_yaml_syntax_error_is_a_problem_with_its_line(tmp_path: Path) -> None:
    write_rule(tmp_path, "good.yml", rule_yaml(ID1))
    write_rule(
        tmp_path, "bad.yml", "title: Broken\nid: x\ndetection:\n  sel: [a, b\n  condition: sel\n"
    )
    report = load_rules([tmp_path])
    assert [r.id for r in report.rules] == [ID1]
    (problem,) = report.problems
    assert problem.file == "bad.yml"
    assert problem.line is not None and problem.line >= 4
    assert problem.reason.startswith("YAML syntax error")
    assert str(problem).startswith(f"bad.yml:{problem.line}: ")


def test_an_unknown_modifier_is_a_problem_located_on_its_line(tmp_path: Path) -> None:
    write_rule(tmp_path, "mod.yml", rule_yaml(ID1, field="Image|endswitch"))
    report = load_rules([tmp_path])
    assert report.rules == []
    (problem,) = report.problems
    assert problem.file == "mod.yml"
    assert "endswitch" in problem.reason and "SigmaModifierError" in problem.reason
    line = (
        rule_yaml(ID1, field="Image|endswitch")
        .splitlines()
        .index("        Image|endswitch: '\\powershell.exe'")
    )
    assert problem.line == line + 1


def test_a_condition_naming_an_unknown_detection_is_a_problem(tmp_path: Path) -> None:
    text = rule_yaml(ID1).replace("condition: selection", "condition: selection and missing")
    write_rule(tmp_path, "cond.yml", text)
    report = load_rules([tmp_path])
    assert report.rules == []
    (problem,) = report.problems
    assert problem.file == "cond.yml" and problem.rule_id == ID1
    assert "missing" in problem.reason
    assert problem.line == text.splitlines().index("    condition: selection and missing") + 1


def test_missing_id_duplicate_id_and_empty_files_are_problems(tmp_path: Path) -> None:
    write_rule(tmp_path, "a.yml", rule_yaml(ID1))
    write_rule(tmp_path, "b.yml", rule_yaml(ID1))
    write_rule(tmp_path, "c.yml", rule_yaml(ID2).replace(f"id: {ID2}\n", ""))
    write_rule(tmp_path, "d.yml", "")
    report = load_rules([tmp_path])
    assert [r.path for r in report.rules] == ["a.yml"]
    reasons = {p.file: p.reason for p in report.problems}
    assert "duplicate rule id (also in a.yml)" in reasons["b.yml"]
    assert "no id" in reasons["c.yml"]
    assert "no Sigma rule" in reasons["d.yml"]


def test_a_correlation_rule_across_files_is_loaded_and_checked(tmp_path: Path) -> None:
    write_rule(tmp_path, "base.yml", rule_yaml(ID1).replace("title:", "name: base_rule\ntitle:"))
    correlation = (
        "title: Many PowerShell starts\n"
        f"id: {ID2}\n"
        "status: test\n"
        "correlation:\n"
        "    type: event_count\n"
        "    rules:\n"
        "        - base_rule\n"
        "    group-by:\n"
        "        - ComputerName\n"
        "    timespan: 5m\n"
        "    condition:\n"
        "        gte: 10\n"
        "level: critical\n"
    )
    write_rule(tmp_path, "corr.yml", correlation)
    report = load_rules([tmp_path])
    assert report.ok, report.problems
    corr = next(r for r in report.rules if r.id == ID2)
    assert corr.is_correlation and corr.level is Severity.CRITICAL and corr.product is None

    write_rule(tmp_path, "corr.yml", correlation.replace("base_rule", "nowhere"))
    (problem,) = load_rules([tmp_path]).problems
    assert problem.file == "corr.yml" and "unknown rules: nowhere" in problem.reason


def test_rules_under_a_deprecated_folder_are_flagged(tmp_path: Path) -> None:
    write_rule(tmp_path, "deprecated/windows/old.yml", rule_yaml(ID1))
    (rule,) = load_rules([tmp_path]).rules
    assert rule.deprecated


def test_several_roots_and_single_files(tmp_path: Path) -> None:
    write_rule(tmp_path, "sigmahq/a.yml", rule_yaml(ID1))
    single = write_rule(tmp_path, "city/ours.yml", rule_yaml(ID2))
    report = load_rules([tmp_path / "sigmahq", single])
    assert [r.path for r in report.rules] == ["a.yml", "ours.yml"]
    assert report.files == 2


def test_a_missing_root_raises_rule_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="does not exist") as caught:
        load_rules([tmp_path / "nope"])
    assert caught.value.source == str(tmp_path / "nope")


def test_attack_tags_give_techniques_and_tactics() -> None:
    tags = (
        "attack.defense_evasion",
        "attack.t1027",
        "attack.T1059.001",
        "attack.g0016",
        "attack.s0002",
        "cve.2021-44228",
        "attack.t1027",
    )
    assert attack_techniques(tags) == ("T1027", "T1059.001")
    assert attack_tactics(tags) == ("defense-evasion",)


def test_rule_files_come_in_path_order(tmp_path: Path) -> None:
    # Sorted by their text split at "/" (cheap), which must be Path's part-by-part order:
    # "a-b.yml" sorts before "a/…" as text but after it as parts.
    from civicshield.detect.sigma import iter_rule_files

    for name in ("a/b/z.yml", "a/c.yml", "a-b.yml", "a.b/x.yaml", "a/b.yml", "A/x.yml", "ab.yml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("title: x\n", encoding="utf-8")
    found = list(iter_rule_files(tmp_path))
    assert len(found) == 7
    assert found == sorted(found)


def test_every_reader_export_resolves() -> None:
    import civicshield.detect.readers as readers

    for name in readers.__all__:
        assert getattr(readers, name) is not None, name
