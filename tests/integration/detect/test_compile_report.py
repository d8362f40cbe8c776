"""Every rule of the SigmaHQ tree (../shared/data/sigma/rules) compiles or is reported with its
reason (issue 4), and the Markdown report of `rules validate --report` lists each one.

The compiled share is printed (`pytest -s`), not asserted: it grows as log sources are
mapped. `docs/rules-compile-report.md` is this report for the shared tree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from civicshield.cli.rules import compile_report
from civicshield.detect import LoadReport, RuleInfo, load_rules
from civicshield.detect.engine import CompiledRuleSet, compile_rules
from tests.harness import require_or_skip

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT.parent / "shared" / "data" / "sigma" / "rules"

pytestmark = pytest.mark.slow  # about 20 s: load and compile the whole tree


def _deprecated(rule: RuleInfo) -> bool:
    return rule.deprecated or rule.status == "deprecated"


@pytest.fixture(scope="module")
def loaded() -> tuple[LoadReport, CompiledRuleSet]:
    if not RULES.is_dir():
        require_or_skip(FileNotFoundError(str(RULES)), "the SigmaHQ rules tree")
    report = load_rules([RULES])
    return report, compile_rules(report.rules)


def test_every_rule_compiles_or_has_a_reason(loaded: tuple[LoadReport, CompiledRuleSet]) -> None:
    report, ruleset = loaded
    compiled = Counter(c.rule.path for c in ruleset.rules)
    failed = Counter(u.rule.path for u in ruleset.unsupported)
    assert not compiled & failed, "a rule both compiled and reported unsupported"
    every = Counter(r.path for r in report.rules)
    assert compiled + failed == every, "a rule neither compiled nor reported"
    empty = [u.rule.path for u in ruleset.unsupported if not u.reason.strip()]
    assert not empty, f"unsupported without a reason: {empty}"

    current = [r for r in report.rules if not _deprecated(r)]
    ok = sum(1 for c in ruleset.rules if not _deprecated(c.rule))
    share = 100 * ok / len(current) if current else 100.0
    print(f"\n{ok} of {len(current)} non-deprecated rules compile ({share:.1f}%)")
    print(f"{len(report.problems)} files do not parse")
    for reason, count in Counter(u.reason for u in ruleset.unsupported).most_common():
        print(f"{count:5} × {reason}")


def test_the_report_lists_every_rule_that_does_not_compile(
    loaded: tuple[LoadReport, CompiledRuleSet],
) -> None:
    report, ruleset = loaded
    text = compile_report(
        report, report.rules, ruleset, command="civicshield rules validate …", roots=[RULES]
    )
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `")
        and line.count("|") - line.count("\\|") == 6  # path, id, title, reason, deprecated
    }
    assert len(rows) == len(ruleset.unsupported)
    for item in ruleset.unsupported:
        row = rows[item.rule.path]
        assert item.rule.id in row and item.reason.replace("|", "\\|") in row
    assert f"| Rules compiled | {len(ruleset.rules)} (" in text
    for problem in report.problems:
        assert f"`{problem.file}`" in text


def test_the_committed_report_says_how_it_was_generated() -> None:
    committed = ROOT / "docs" / "rules-compile-report.md"
    text = committed.read_text(encoding="utf-8")
    assert "civicshield rules validate --compile --rules ../shared/data/sigma/rules" in text
    assert "## Rules not compiled" in text
