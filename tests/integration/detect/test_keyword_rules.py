"""Every field-less (keyword) rule in SigmaHQ's `rules/windows` fires on an event constructed from
its own keyword values and its log source (`Channel`/`EventID` as the engine routes them), and
stops firing when the keyword text is taken out again.

The event is found by a small search over the rule's parsed condition: field selections get a
witness value, keywords a field of their own holding the keyword text, negated parts must stay
false; the independent oracle (`tests/unit/detect/oracle.py`) confirms the event satisfies the
rule before the engine is asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaExpansion,
    SigmaNull,
    SigmaNumber,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from civicshield.detect import load_rules
from civicshield.detect.engine import NoRoute, compile_rules, evaluate, route_windows
from civicshield.detect.readers import batch_from_lines
from tests.unit.detect import oracle

RULES = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sigma" / "rules" / "windows"
)
KEYWORD_FIELD = "Keyword"  # fields "Keyword0", "Keyword1", … hold keyword text
MAX_CANDIDATES = 64

Event = dict[str, Any]


def _has_keywords(detection: dict[str, Any]) -> bool:
    for name, value in detection.items():
        if name == "condition":
            continue
        if isinstance(value, str | int | float) or (
            isinstance(value, list) and any(not isinstance(v, dict) for v in value)
        ):
            return True
        if isinstance(value, dict) and any(str(k).startswith("|") for k in value):
            return True
    return False


def keyword_rule_files() -> list[Any]:
    """(rule id, file) of every rule with a field-less search identifier; found by reading the
    YAML only (cheap enough at collection time)."""
    if not RULES.is_dir():
        return [pytest.param(None, None, id="no-shared-rules")]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found: list[Any] = []
    for path in sorted(RULES.rglob("*.yml")):
        for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=loader):
            if isinstance(doc, dict) and _has_keywords(doc.get("detection") or {}):
                found.append(pytest.param(doc["id"], path, id=doc["id"]))
    return found


def witness(value: SigmaType) -> Any:
    """A value the engine should accept for `value` (wildcards filled in)."""
    if isinstance(value, SigmaExpansion):
        return witness(value.values[0])
    if isinstance(value, SigmaString):
        parts = []
        for part in value.s:
            if part is SpecialChars.WILDCARD_SINGLE:
                parts.append("x")
            elif isinstance(part, str):
                parts.append(part)
        return "".join(parts)
    if isinstance(value, SigmaNumber):
        return value.number
    if isinstance(value, SigmaBool):
        return value.boolean
    raise NotImplementedError(f"no witness for {type(value).__name__}")


def candidates(node: object, event: Event) -> list[Event]:
    """Extensions of `event` that may satisfy `node` (checked by the oracle afterwards)."""
    if isinstance(node, ConditionAND):
        found = [event]
        for arg in node.args:
            found = [e for base in found for e in candidates(arg, base)][:MAX_CANDIDATES]
        return found
    if isinstance(node, ConditionOR):
        # keyword branches first: the point is to fire the rule through its keywords
        args = sorted(node.args, key=lambda a: not _mentions_keywords(a))
        return [e for arg in args for e in candidates(arg, event)][:MAX_CANDIDATES]
    if isinstance(node, ConditionNOT):
        return [] if oracle.holds(node.args[0], event) else [event]
    if isinstance(node, ConditionFieldEqualsValueExpression):
        if node.field in event:
            return [event] if oracle.holds(node, event) else []
        if isinstance(node.value, SigmaNull):
            return [event]
        return [{**event, node.field: witness(node.value)}]
    if isinstance(node, ConditionValueExpression):
        count = sum(1 for k in event if k.startswith(KEYWORD_FIELD))
        return [{**event, f"{KEYWORD_FIELD}{count}": str(witness(node.value))}]
    raise NotImplementedError(type(node).__name__)


def _mentions_keywords(node: object) -> bool:
    if isinstance(node, ConditionValueExpression):
        return True
    return any(_mentions_keywords(a) for a in getattr(node, "args", []))


def without_keywords(event: Event) -> Event:
    return {k: v for k, v in event.items() if not k.startswith(KEYWORD_FIELD)}


def constructed_event(rule: SigmaRule, base: Event) -> Event:
    """An event that fires `rule` and does not once its keyword fields are removed."""
    for condition in rule.detection.parsed_condition:
        for event in candidates(condition.parsed, base):
            if oracle.matches(rule, event) and not oracle.matches(rule, without_keywords(event)):
                return event
    raise AssertionError("no event found that fires the rule through its keywords")


@pytest.mark.parametrize(("rule_id", "path"), keyword_rule_files())
def test_keyword_rule_fires_on_constructed_event(rule_id: str | None, path: Path | None) -> None:
    if rule_id is None or path is None:
        pytest.skip(f"the shared SigmaHQ rules are not available at {RULES}")
    report = load_rules([path])
    assert not report.problems, report.problems
    info = next(r for r in report.rules if r.id == rule_id)
    assert isinstance(info.sigma, SigmaRule)
    route = route_windows(info.product, info.category, info.service)
    assert not isinstance(route, NoRoute), route.reason
    base: Event = {}
    if route.channels:
        base["Channel"] = route.channels[0]
    if route.event_ids:
        base["EventID"] = int(route.event_ids[0])
    event = constructed_event(info.sigma, base)
    ruleset = compile_rules([info])
    assert not ruleset.unsupported, [str(u) for u in ruleset.unsupported]
    assert ruleset.needs_values
    events = [event, without_keywords(event)]
    lines = [(n, orjson.dumps(e)) for n, e in enumerate(events, start=1)]
    frame = batch_from_lines("constructed", lines, ruleset.fields, values=True).frame
    fired = evaluate(ruleset, frame)
    assert fired["event_index"].to_list() == [0], (info.path, event)
    assert fired["rule_id"].to_list() == [rule_id]
