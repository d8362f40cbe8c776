"""RuleSelection / select: folder, level, status and tag filters; deprecated off by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.core import ConfigError, Severity
from civicshield.core.settings import Settings
from civicshield.detect import RuleInfo, RuleSelection, load_rules, rule_roots, select
from civicshield.detect.sigma import folder_matches
from civicshield.detect.sigma.ruleset import missing_sigmahq, rule_pack_dir

from .rulefiles import rule_yaml, write_rule

IDS = [f"{n:08d}-0000-4000-8000-000000000000" for n in range(6)]


@pytest.fixture
def rules(tmp_path: Path) -> list[RuleInfo]:
    write_rule(tmp_path, "windows/process_creation/a.yml", rule_yaml(IDS[0], level="low"))
    write_rule(
        tmp_path,
        "windows/registry/b.yml",
        rule_yaml(IDS[1], level="critical", status="stable", tags=("attack.persistence",)),
    )
    write_rule(tmp_path, "linux/c.yml", rule_yaml(IDS[2], level="medium", tags=("attack.t1003",)))
    write_rule(tmp_path, "deprecated/windows/d.yml", rule_yaml(IDS[3], level="high"))
    write_rule(tmp_path, "unsupported/e.yml", rule_yaml(IDS[4], level="high"))
    write_rule(tmp_path, "windows/f.yml", rule_yaml(IDS[5], level="high", status="deprecated"))
    report = load_rules([tmp_path])
    assert report.ok, report.problems
    return report.rules


def ids(chosen: list[RuleInfo]) -> set[str]:
    return {r.id[:8] for r in chosen}


def test_default_leaves_out_deprecated_and_unsupported(rules: list[RuleInfo]) -> None:
    assert ids(select(rules)) == {"00000000", "00000001", "00000002"}
    assert len(select(rules, RuleSelection.everything())) == 6


def test_minimum_level(rules: list[RuleInfo]) -> None:
    chosen = select(rules, RuleSelection(min_level=Severity.MEDIUM))
    assert ids(chosen) == {"00000001", "00000002"}


def test_status_and_asking_for_deprecated(rules: list[RuleInfo]) -> None:
    assert ids(select(rules, RuleSelection(statuses=frozenset({"stable"})))) == {"00000001"}
    assert ids(select(rules, RuleSelection(statuses=frozenset({"deprecated"})))) == {"00000005"}


def test_tag_globs_are_case_insensitive(rules: list[RuleInfo]) -> None:
    assert ids(select(rules, RuleSelection(tags=("ATTACK.T1003*",)))) == {"00000002"}
    assert ids(select(rules, RuleSelection(tags=("attack.persistence",)))) == {"00000001"}


def test_folder_globs(rules: list[RuleInfo]) -> None:
    assert ids(select(rules, RuleSelection(folders=("windows",)))) == {"00000000", "00000001"}
    assert ids(select(rules, RuleSelection(folders=("windows/process_*",)))) == {"00000000"}
    assert ids(select(rules, RuleSelection(exclude_folders=("linux/",)))) == {
        "00000000",
        "00000001",
        "00000003",
        "00000004",
    }
    assert folder_matches("a/deprecated/x.yml", "*/deprecated")
    assert not folder_matches("windows/x.yml", "win")


def test_rule_roots_say_what_is_missing(tmp_path: Path) -> None:
    no_pack = {"rule_pack_enabled": False}
    with pytest.raises(ConfigError, match="CIVICSHIELD_FEEDS_PATH is not set"):
        rule_roots(Settings(feeds_path=None, **no_pack))
    with pytest.raises(ConfigError, match=r"no SigmaHQ rules found under .*sigma/rules; set"):
        rule_roots(Settings(feeds_path=tmp_path, **no_pack))
    # CivicShield's own pack loads without SigmaHQ's; what is missing is still said
    assert rule_roots(Settings(feeds_path=tmp_path)) == [rule_pack_dir()]
    assert "no SigmaHQ rules found" in (missing_sigmahq(Settings(feeds_path=tmp_path)) or "")
    (tmp_path / "sigma" / "rules").mkdir(parents=True)
    assert missing_sigmahq(Settings(feeds_path=tmp_path)) is None
    assert rule_roots(Settings(feeds_path=tmp_path, **no_pack)) == [tmp_path / "sigma" / "rules"]
    assert rule_roots(Settings(feeds_path=tmp_path)) == [
        tmp_path / "sigma" / "rules",
        rule_pack_dir(),
    ]
    with pytest.raises(ConfigError, match="does not exist"):
        rule_roots(Settings(feeds_path=tmp_path), [tmp_path / "mine"])
    assert rule_roots(Settings(feeds_path=None), [tmp_path]) == [tmp_path]


def test_city_rules_load_beside_sigmahq(tmp_path: Path) -> None:
    feeds, data = tmp_path / "feeds", tmp_path / "data"
    (feeds / "sigma" / "rules").mkdir(parents=True)
    settings = Settings(feeds_path=feeds, data_dir=data, rule_pack_enabled=False)
    assert rule_roots(settings) == [feeds / "sigma" / "rules"]
    (data / "rules" / "city").mkdir(parents=True)
    assert rule_roots(settings) == [feeds / "sigma" / "rules", data / "rules" / "city"]
    alone = Settings(feeds_path=None, data_dir=data, rule_pack_enabled=False)
    assert rule_roots(alone) == [data / "rules" / "city"]
    assert rule_roots(settings, [tmp_path]) == [tmp_path]  # --rules replaces both


def test_folder_globs_compiled_once_match_as_folder_matches_does() -> None:
    import itertools

    from civicshield.detect.sigma.ruleset import _folders_pattern, folder_matches

    paths = ["windows/process_creation/x.yml", "deprecated/windows/a.yml", "windows",
             "windowsx/a.yml", "a/b/c/d.yml", "rules-placeholder/b.yml", ""]  # fmt: skip
    globs = ["windows", "/windows/", "deprecated", "*/process_*", "rules-*", "a/b", "[a-c]/b",
             "windows/process_creation/x.yml"]  # fmt: skip
    for size in (1, 2):
        for chosen in itertools.combinations(globs, size):
            for path in paths:
                expected = any(folder_matches(path, g) for g in chosen)
                assert bool(_folders_pattern(chosen).match(path)) == expected, (path, chosen)
