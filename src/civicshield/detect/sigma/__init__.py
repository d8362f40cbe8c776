"""Sigma rules through pySigma: loading (`load_rules`), metadata (`RuleInfo`), problems
(`RuleProblem`) and rule selection (`RuleSelection`, `select`). No database here."""

from civicshield.detect.sigma.loader import RULE_SUFFIXES, iter_rule_files, load_rules
from civicshield.detect.sigma.model import (
    ATTACK_TACTICS,
    LoadReport,
    RuleInfo,
    RuleKind,
    RuleProblem,
    attack_tactics,
    attack_techniques,
)
from civicshield.detect.sigma.ruleset import (
    DEFAULT_EXCLUDED_FOLDERS,
    DEFAULT_EXCLUDED_STATUSES,
    RuleSelection,
    folder_matches,
    installed_rules_dir,
    rule_roots,
    select,
    sigmahq_rules_dir,
)

__all__ = [
    "ATTACK_TACTICS",
    "DEFAULT_EXCLUDED_FOLDERS",
    "DEFAULT_EXCLUDED_STATUSES",
    "RULE_SUFFIXES",
    "LoadReport",
    "RuleInfo",
    "RuleKind",
    "RuleProblem",
    "RuleSelection",
    "attack_tactics",
    "attack_techniques",
    "folder_matches",
    "installed_rules_dir",
    "iter_rule_files",
    "load_rules",
    "rule_roots",
    "select",
    "sigmahq_rules_dir",
]
