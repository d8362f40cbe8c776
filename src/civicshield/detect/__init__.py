"""Detection: Sigma rules parsed by pySigma (`civicshield.detect.sigma`), the Polars engine
(`civicshield.detect.engine`) and readers (`civicshield.detect.readers`). No database here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicshield.core.lazy import lazy_exports

if TYPE_CHECKING:
    from civicshield.detect.correlations import (
        CorrelationPlan,
        has_correlations,
        plan_correlations,
        rules_with_sigma,
    )
    from civicshield.detect.live import evaluate_live
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
    "CorrelationPlan",
    "LoadReport",
    "RuleInfo",
    "RuleProblem",
    "RuleSelection",
    "evaluate_live",
    "has_correlations",
    "load_rules",
    "plan_correlations",
    "rule_roots",
    "rules_with_sigma",
    "select",
    "sigmahq_rules_dir",
]

# Exports are imported on first use: a warm `civicshield detect` must not import pySigma.
_WHERE = {
    "CorrelationPlan": "civicshield.detect.correlations",
    "evaluate_live": "civicshield.detect.live",
    "has_correlations": "civicshield.detect.correlations",
    "plan_correlations": "civicshield.detect.correlations",
    "rules_with_sigma": "civicshield.detect.correlations",
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
