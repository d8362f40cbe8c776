"""The pure detection engine: Sigma rules (parsed by pySigma) compiled to Polars expressions
and evaluated over batches of events. No I/O here; readers live in `civicshield.detect.readers`.

    ruleset = compile_rules(load_rules([root]).rules)      # CompiledRuleSet (+ .unsupported)
    matches = evaluate(ruleset, frame)                     # rule_id, …, event_index
"""

from civicshield.detect.engine.compiler import (
    ENGINE_VERSION,
    VALUES_FIELD,
    CompiledRule,
    CompiledRuleSet,
    LogsourceMapping,
    Unsupported,
    WindowsNativeMapping,
    compile_rule,
    compile_rules,
    lower_name,
)
from civicshield.detect.engine.evaluate import MATCH_SCHEMA, evaluate
from civicshield.detect.engine.logsources import MAPPING_VERSION, NoRoute, Route, route_windows

__all__ = [
    "ENGINE_VERSION",
    "MAPPING_VERSION",
    "MATCH_SCHEMA",
    "VALUES_FIELD",
    "CompiledRule",
    "CompiledRuleSet",
    "LogsourceMapping",
    "NoRoute",
    "Route",
    "Unsupported",
    "WindowsNativeMapping",
    "compile_rule",
    "compile_rules",
    "evaluate",
    "lower_name",
    "route_windows",
]
