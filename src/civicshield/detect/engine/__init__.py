"""The pure detection engine: Sigma rules (parsed by pySigma) compiled to Polars expressions
and evaluated over batches of events. No I/O here; readers live in `civicshield.detect.readers`.

    ruleset = compile_rules(load_rules([root]).rules)      # CompiledRuleSet (+ .unsupported)
    matches = evaluate(ruleset, frame)                     # rule_id, …, event_index
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicshield.core.lazy import lazy_exports

# Imported now, not lazily: `evaluate` is also the name of its submodule, and importing the
# submodule first would bind the package attribute to the module. Neither imports pySigma.
from civicshield.detect.engine.evaluate import MATCH_SCHEMA, evaluate

if TYPE_CHECKING:
    from civicshield.detect.engine.compiler import (
        ENGINE_VERSION,
        LogsourceMapping,
        WindowsNativeMapping,
        compile_rule,
        compile_rules,
    )
    from civicshield.detect.engine.correlation import (
        CompiledCorrelation,
        compile_correlations,
        correlate,
    )
    from civicshield.detect.engine.logsources import (
        MAPPING_VERSION,
        route_windows,
    )
    from civicshield.detect.engine.model import (
        VALUES_FIELD,
        CompiledRule,
        CompiledRuleSet,
        NoRoute,
        Route,
        Unsupported,
        lower_name,
    )

__all__ = [
    "ENGINE_VERSION",
    "MAPPING_VERSION",
    "MATCH_SCHEMA",
    "VALUES_FIELD",
    "CompiledCorrelation",
    "CompiledRule",
    "CompiledRuleSet",
    "LogsourceMapping",
    "NoRoute",
    "Route",
    "Unsupported",
    "WindowsNativeMapping",
    "compile_correlations",
    "compile_rule",
    "compile_rules",
    "correlate",
    "evaluate",
    "lower_name",
    "route_windows",
]

# Exports are imported on first use: a warm `civicshield detect` must not import pySigma.
_WHERE = {
    "ENGINE_VERSION": "civicshield.detect.engine.model",
    "LogsourceMapping": "civicshield.detect.engine.compiler",
    "WindowsNativeMapping": "civicshield.detect.engine.compiler",
    "compile_rule": "civicshield.detect.engine.compiler",
    "compile_rules": "civicshield.detect.engine.compiler",
    "CompiledRule": "civicshield.detect.engine.model",
    "CompiledRuleSet": "civicshield.detect.engine.model",
    "NoRoute": "civicshield.detect.engine.model",
    "Route": "civicshield.detect.engine.model",
    "Unsupported": "civicshield.detect.engine.model",
    "VALUES_FIELD": "civicshield.detect.engine.model",
    "lower_name": "civicshield.detect.engine.model",
    "MAPPING_VERSION": "civicshield.detect.engine.model",
    "route_windows": "civicshield.detect.engine.logsources",
    "CompiledCorrelation": "civicshield.detect.engine.correlation",
    "compile_correlations": "civicshield.detect.engine.correlation",
    "correlate": "civicshield.detect.engine.correlation",
}


__getattr__ = lazy_exports(__name__, _WHERE)
