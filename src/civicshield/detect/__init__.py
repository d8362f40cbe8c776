"""Detection: Sigma rules parsed by pySigma (`civicshield.detect.sigma`), the Polars engine
(`civicshield.detect.engine`) and readers (`civicshield.detect.readers`). No database here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicshield.core.lazy import lazy_exports

if TYPE_CHECKING:
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

# Exports are imported on first use: a warm `civicshield detect` must not import pySigma.
_WHERE = {
    "LoadReport": "civicshield.detect.sigma",
    "RuleInfo": "civicshield.detect.sigma",
    "RuleProblem": "civicshield.detect.sigma",
    "RuleSelection": "civicshield.detect.sigma",
    "load_rules": "civicshield.detect.sigma",
    "rule_roots": "civicshield.detect.sigma",
    "select": "civicshield.detect.sigma",
    "sigmahq_rules_dir": "civicshield.detect.sigma",
}


__getattr__ = lazy_exports(__name__, _WHERE)
