"""Sigma rules through pySigma: loading (`load_rules`), metadata (`RuleInfo`), problems
(`RuleProblem`) and rule selection (`RuleSelection`, `select`). No database here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicshield.core.lazy import lazy_exports

if TYPE_CHECKING:
    from civicshield.detect.sigma.files import RULE_SUFFIXES, iter_rule_files
    from civicshield.detect.sigma.loader import load_rules
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
        city_rules_dir,
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
    "city_rules_dir",
    "folder_matches",
    "installed_rules_dir",
    "iter_rule_files",
    "load_rules",
    "rule_roots",
    "select",
    "sigmahq_rules_dir",
]

# Exports are imported on first use: a warm `civicshield detect` must not import pySigma.
_WHERE = {
    "RULE_SUFFIXES": "civicshield.detect.sigma.files",
    "iter_rule_files": "civicshield.detect.sigma.files",
    "load_rules": "civicshield.detect.sigma.loader",
    "ATTACK_TACTICS": "civicshield.detect.sigma.model",
    "LoadReport": "civicshield.detect.sigma.model",
    "RuleInfo": "civicshield.detect.sigma.model",
    "RuleKind": "civicshield.detect.sigma.model",
    "RuleProblem": "civicshield.detect.sigma.model",
    "attack_tactics": "civicshield.detect.sigma.model",
    "attack_techniques": "civicshield.detect.sigma.model",
    "DEFAULT_EXCLUDED_FOLDERS": "civicshield.detect.sigma.ruleset",
    "DEFAULT_EXCLUDED_STATUSES": "civicshield.detect.sigma.ruleset",
    "RuleSelection": "civicshield.detect.sigma.ruleset",
    "city_rules_dir": "civicshield.detect.sigma.ruleset",
    "folder_matches": "civicshield.detect.sigma.ruleset",
    "installed_rules_dir": "civicshield.detect.sigma.ruleset",
    "rule_roots": "civicshield.detect.sigma.ruleset",
    "select": "civicshield.detect.sigma.ruleset",
    "sigmahq_rules_dir": "civicshield.detect.sigma.ruleset",
}


__getattr__ = lazy_exports(__name__, _WHERE)
