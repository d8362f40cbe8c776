"""Detection: Sigma rules parsed by pySigma (`civicshield.detect.sigma`); the Polars engine,
readers and alert service come later (see `../shared/GUIDE.md` §2). No database here yet."""

from civicshield.detect.sigma import (
    LoadReport,
    RuleInfo,
    RuleProblem,
    RuleSelection,
    load_rules,
    rule_roots,
    select,
    sigmahq_rules_dir,
)

__all__ = [
    "LoadReport",
    "RuleInfo",
    "RuleProblem",
    "RuleSelection",
    "load_rules",
    "rule_roots",
    "select",
    "sigmahq_rules_dir",
]
