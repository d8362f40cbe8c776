"""The whole SigmaHQ `rules/` tree (../shared/data/sigma/rules) loads with pySigma, nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from civicshield.core import Severity
from civicshield.detect import LoadReport, RuleSelection, load_rules, select
from tests.harness import require_or_skip

RULES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sigma" / "rules"
FILES = 3141  # measured with pySigma 2.0.1 on the shared tree (one rule per file)

pytestmark = pytest.mark.slow  # about 8 s for the load


@pytest.fixture(scope="module")
def report() -> LoadReport:
    if not RULES.is_dir():
        require_or_skip(FileNotFoundError(str(RULES)), "the SigmaHQ rules tree")
    started = time.perf_counter()
    loaded = load_rules([RULES])
    assert time.perf_counter() - started < 60
    return loaded


def test_every_file_parses_without_a_problem(report: LoadReport) -> None:
    assert report.problems == []
    assert report.files == FILES
    assert len(report.rules) == FILES
    assert len({r.id for r in report.rules}) == FILES


def test_every_rule_has_a_level_an_author_field_and_a_log_source(report: LoadReport) -> None:
    for rule in report.rules:
        assert isinstance(rule.level, Severity), rule.path
        assert rule.author is None or rule.author.strip(), rule.path
        assert rule.product or rule.category or rule.service, rule.path
        assert rule.kind == "rule"


def test_attack_tags_are_derived(report: LoadReport) -> None:
    with_techniques = [r for r in report.rules if r.techniques]
    assert len(with_techniques) > FILES // 2
    assert all(t.startswith("T") for r in with_techniques for t in r.techniques)
    mimikatz = next(r for r in report.rules if r.id == "a642964e-bead-4bed-8910-1bb4d63e3b4d")
    assert "credential-access" in mimikatz.tactics and "T1003.001" in mimikatz.techniques


def test_selection_over_the_real_tree(report: LoadReport) -> None:
    windows = select(report.rules, RuleSelection(folders=("windows",)))
    assert 0 < len(windows) < FILES
    assert all(r.path.startswith("windows/") for r in windows)
    critical = select(report.rules, RuleSelection(min_level=Severity.CRITICAL))
    assert critical and all(r.level is Severity.CRITICAL for r in critical)
