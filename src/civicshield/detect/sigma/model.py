"""What the rule loader returns: one `RuleInfo` per parsed rule, one `RuleProblem` per file
or rule that could not be parsed, both gathered in a `LoadReport`.

ATT&CK techniques and tactics are derived from a rule's `attack.*` tags: `attack.t1059.001`
is technique `T1059.001`, `attack.defense-evasion` (or `attack.defense_evasion`) is tactic
`defense-evasion`; group (`attack.g0016`) and software (`attack.s0002`) tags are neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from civicshield.core import Severity

if TYPE_CHECKING:
    from sigma.rule import SigmaRuleBase

__all__ = [
    "ATTACK_TACTICS",
    "LoadReport",
    "RuleInfo",
    "RuleKind",
    "RuleProblem",
    "attack_tactics",
    "attack_techniques",
]

RuleKind = Literal["rule", "correlation", "filter"]

# Enterprise, Mobile and ICS tactics, in ATT&CK's hyphenated short-name form.
ATTACK_TACTICS = frozenset(
    {
        "reconnaissance",
        "resource-development",
        "initial-access",
        "execution",
        "persistence",
        "privilege-escalation",
        "defense-evasion",
        "credential-access",
        "discovery",
        "lateral-movement",
        "collection",
        "command-and-control",
        "exfiltration",
        "impact",
        "evasion",
        "inhibit-response-function",
        "impair-process-control",
    }
)
_TECHNIQUE = re.compile(r"^t\d{4}(\.\d{3})?$")


def attack_techniques(tags: tuple[str, ...]) -> tuple[str, ...]:
    """`("attack.t1059.001", …)` → `("T1059.001",)`, in tag order, without duplicates."""
    found: dict[str, None] = {}
    for tag in tags:
        namespace, _, name = tag.lower().partition(".")
        if namespace == "attack" and _TECHNIQUE.match(name):
            found[name.upper()] = None
    return tuple(found)


def attack_tactics(tags: tuple[str, ...]) -> tuple[str, ...]:
    """`("attack.defense_evasion", …)` → `("defense-evasion",)`, in tag order."""
    found: dict[str, None] = {}
    for tag in tags:
        namespace, _, name = tag.lower().partition(".")
        tactic = name.replace("_", "-")
        if namespace == "attack" and tactic in ATTACK_TACTICS:
            found[tactic] = None
    return tuple(found)


@dataclass(frozen=True)
class RuleProblem:
    """A file or rule that could not be parsed. `file` is relative to its rules root;
    `line` is 1-based, None when neither pySigma nor the YAML parser could tell."""

    file: str
    line: int | None
    reason: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
            "rule_id": self.rule_id,
        }


@dataclass(frozen=True)
class RuleInfo:
    """One parsed Sigma rule (or correlation rule, or filter) and where it came from.

    `author` must travel with every alert the rule raises (the Detection Rule License)."""

    id: str
    title: str
    level: Severity | None
    status: str | None
    author: str | None
    tags: tuple[str, ...]
    techniques: tuple[str, ...]
    tactics: tuple[str, ...]
    product: str | None
    category: str | None
    service: str | None
    path: str  # relative to the rules root, with `/` separators
    source_file: str  # absolute file path (`source`), kept as text: a warm start loads ~10^3
    kind: RuleKind = "rule"
    deprecated: bool = False  # the file lies under a `deprecated/` folder
    sigma: SigmaRuleBase | None = field(default=None, compare=False, repr=False)

    @cached_property  # frozen dataclasses have a __dict__: the cached value goes there
    def source(self) -> Path:
        """The rule's file (absolute)."""
        return Path(self.source_file)

    @property
    def is_correlation(self) -> bool:
        return self.kind == "correlation"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready metadata (without the parsed pySigma object)."""
        return {
            "id": self.id,
            "title": self.title,
            "level": self.level.value if self.level else None,
            "status": self.status,
            "author": self.author,
            "tags": list(self.tags),
            "techniques": list(self.techniques),
            "tactics": list(self.tactics),
            "logsource": {
                "product": self.product,
                "category": self.category,
                "service": self.service,
            },
            "file": self.path,
            "kind": self.kind,
            "deprecated": self.deprecated,
        }


@dataclass
class LoadReport:
    """Everything found under the rules roots: parsed rules and every problem, nothing dropped."""

    roots: list[Path]
    files: int = 0
    rules: list[RuleInfo] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts_by_level(self, rules: list[RuleInfo] | None = None) -> dict[str, int]:
        """Rules per level, lowest level first (`none` for rules without a level)."""
        counts = {s.value: 0 for s in Severity}
        for rule in self.rules if rules is None else rules:
            key = rule.level.value if rule.level else "none"
            counts[key] = counts.get(key, 0) + 1
        return {k: v for k, v in counts.items() if v or k != "none"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "roots": [str(r) for r in self.roots],
            "files": self.files,
            "rules": len(self.rules),
            "problems": [p.to_dict() for p in self.problems],
        }
