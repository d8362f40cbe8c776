"""Load Sigma rules from folders with pySigma, one file at a time, so that one bad file is a
reported problem (file, line, reason) and never stops or silently shrinks the load.

    report = load_rules([Path("../shared/data/sigma/rules")])
    report.rules      # list[RuleInfo], in path order
    report.problems   # list[RuleProblem]: YAML errors, pySigma errors, duplicate ids, …

Only a rules root that does not exist raises (`RuleError`). pySigma parses conditions lazily;
the loader parses them at once so a bad condition is reported here. Lines come from the YAML
parser or pySigma where they know one; pySigma 2 reports no line for rule errors, so for
unknown modifiers and condition errors the line is located in the file text (best effort).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaConditionError, SigmaError, SigmaModifierError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule, SigmaRuleBase

from civicshield.core import RuleError, Severity
from civicshield.detect.sigma.files import RULE_SUFFIXES, iter_rule_files
from civicshield.detect.sigma.model import (
    LoadReport,
    RuleInfo,
    RuleKind,
    RuleProblem,
    attack_tactics,
    attack_techniques,
)

__all__ = ["RULE_SUFFIXES", "iter_rule_files", "load_rules"]

_UNKNOWN_MODIFIER = re.compile(r"Unknown modifier '([^']+)'")


def load_rules(paths: list[Path]) -> LoadReport:
    """Parse every rule file under `paths` (folders or single files); see the module docstring."""
    roots = [p.resolve() for p in paths]
    for root in roots:
        if not root.exists():
            raise RuleError("rules path does not exist", source=str(root))
    report = LoadReport(roots=roots)
    seen: dict[str, str] = {}
    for root in roots:
        base = root.parent if root.is_file() else root
        for path in iter_rule_files(root):
            report.files += 1
            relative = path.relative_to(base).as_posix()
            for item in _load_file(path, relative, report.problems):
                if item.id in seen:
                    report.problems.append(
                        RuleProblem(
                            relative, None, f"duplicate rule id (also in {seen[item.id]})", item.id
                        )
                    )
                    continue
                seen[item.id] = relative
                report.rules.append(item)
    _check_references(report)
    return report


def _load_file(path: Path, relative: str, problems: list[RuleProblem]) -> list[RuleInfo]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(RuleProblem(relative, None, f"cannot read file: {exc}"))
        return []
    try:
        collection = SigmaCollection.from_yaml(
            text,
            collect_errors=True,
            source=SigmaRuleLocation(path),
            collect_filters=True,
            resolve_references=False,  # references may point to other files: checked later
        )
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        problems.append(RuleProblem(relative, line, f"YAML syntax error: {reason}"))
        return []
    except SigmaError as exc:
        problems.append(RuleProblem(relative, _locate(text, exc), _reason(exc)))
        return []
    except Exception as exc:  # pySigma bug or unexpected input: report, never crash the load
        problems.append(
            RuleProblem(relative, None, f"unexpected {type(exc).__name__} in pySigma: {exc}")
        )
        return []
    for error in collection.errors:
        problems.append(RuleProblem(relative, _locate(text, error), _reason(error)))
    parsed: list[SigmaRuleBase] = [*collection.rules, *collection.filters]
    if not parsed and not collection.errors:
        problems.append(RuleProblem(relative, None, "no Sigma rule in this file"))
    infos: list[RuleInfo] = []
    for rule in parsed:
        if rule.errors:
            continue  # already reported through collection.errors
        if rule.id is None:
            problems.append(RuleProblem(relative, None, "rule has no id (alerts must name it)"))
            continue
        problem = _check_conditions(rule, text, relative)
        if problem is not None:
            problems.append(problem)
            continue
        infos.append(_info(rule, path, relative))
    return infos


def _check_conditions(rule: SigmaRuleBase, text: str, relative: str) -> RuleProblem | None:
    """pySigma parses conditions lazily; parse them now so a bad one is reported at load."""
    if not isinstance(rule, SigmaRule):
        return None
    try:
        for condition in rule.detection.parsed_condition:
            _ = condition.parsed
    except SigmaError as exc:
        return RuleProblem(relative, _locate(text, exc), _reason(exc), str(rule.id))
    return None


def _info(rule: SigmaRuleBase, path: Path, relative: str) -> RuleInfo:
    tags = tuple(str(t) for t in rule.tags)
    kind: RuleKind = "rule"
    product = category = service = None
    if isinstance(rule, SigmaCorrelationRule):
        kind = "correlation"
    elif isinstance(rule, SigmaRule | SigmaFilter):
        kind = "filter" if isinstance(rule, SigmaFilter) else "rule"
        product = rule.logsource.product
        category = rule.logsource.category
        service = rule.logsource.service
    return RuleInfo(
        id=str(rule.id),
        title=rule.title or "",
        level=Severity(rule.level.name.lower()) if rule.level is not None else None,
        status=rule.status.name.lower() if rule.status is not None else None,
        author=rule.author,
        tags=tags,
        techniques=attack_techniques(tags),
        tactics=attack_tactics(tags),
        product=product,
        category=category,
        service=service,
        path=relative,
        source_file=str(path),
        kind=kind,
        deprecated="deprecated" in relative.split("/")[:-1],
        sigma=rule,
    )


def _check_references(report: LoadReport) -> None:
    """A correlation rule or filter must name rules (by id or name) that were loaded."""
    known = {r.id for r in report.rules}
    known |= {r.sigma.name for r in report.rules if r.sigma is not None and r.sigma.name}
    for info in report.rules:
        rule = info.sigma
        refs = getattr(rule, "rules", None)
        if not isinstance(refs, list):
            continue
        missing = [ref.reference for ref in refs if ref.reference not in known]
        if missing:
            report.problems.append(
                RuleProblem(
                    info.path, None, f"refers to unknown rules: {', '.join(missing)}", info.id
                )
            )


def _reason(exc: SigmaError) -> str:
    """pySigma's message without the ` in /abs/path` suffix it appends."""
    message = exc.args[0] if exc.args else type(exc).__name__
    return f"{type(exc).__name__}: {message}"


def _locate(text: str, exc: SigmaError) -> int | None:
    if exc.source is not None and exc.source.line is not None:
        return exc.source.line
    needle: str | None = None
    if isinstance(exc, SigmaModifierError):
        match = _UNKNOWN_MODIFIER.search(str(exc.args[0]) if exc.args else "")
        needle = f"|{match.group(1)}" if match else None
    elif isinstance(exc, SigmaConditionError):
        needle = "condition:"
    if needle is None:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line and not line.lstrip().startswith("#"):
            return number
    return None
