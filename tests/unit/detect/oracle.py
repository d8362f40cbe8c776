"""An independent, deliberately slow evaluator of one parsed Sigma rule against one event (a
plain dict), written from the Sigma specification (SigmaHQ sigma-specification v2.0.0:
`specification/sigma-rules-specification.md` and `appendix/appendix_modifier.md`), not from the
engine. The test suite compares the engine with it on generated rules and events.

It reads pySigma's parsed condition trees, so modifier *transformations* (contains/startswith/
endswith wildcards, base64, base64offset, wide/utf16*, windash expansions, `all`) are pySigma's;
what it decides itself is how each typed value matches an event:

* Values are compared as strings, case-insensitively ("All values are treated as
  case-insensitive strings"); `cased` compares the original text. An event's number or boolean
  is compared in its JSON text form (`4688`, `true`).
* `*` matches any run of characters (also none), `?` exactly one; escapes were resolved by
  pySigma ("String Wildcard", "Escaping"). Matching is a whole-value match, by a small
  backtracking matcher of our own (no `re`/`fnmatch`).
* A field that is absent (or JSON null) matches no value; `null` matches exactly those
  ("Special Field Values"); `exists: true` needs the key present with a non-null value
  ("Field Existence"). `''` is the empty string, not null.
* `re`: unanchored search with Python's `re` (the flavour pySigma validates with);
  case-sensitive unless `i`; `m` and `s` set MULTILINE / DOTALL.
* `cidr`: the event value parsed as an IP address (`ipaddress`) and tested for membership in
  the network; a value that is not an address does not match.
* `lt`/`lte`/`gt`/`gte`: the event value must be a number (a JSON number, or a string holding
  exactly a JSON number); anything else does not match.
* `fieldref`: case-insensitive comparison with the other field's value (equality, or prefix /
  suffix / substring after startswith / endswith / contains); both fields must be present.
* Keywords (field-less values) search the whole event: they match when the value occurs
  anywhere inside one of the event's scalar values ("Keywords search": full-text search), i.e.
  each keyword behaves as `*keyword*` applied to every value; wildcards stay within one value.
* Conditions: and/or/not as parsed by pySigma; several conditions are OR-ed ("Condition").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaType,
    SpecialChars,
)

__all__ = ["OracleError", "holds", "matches", "text_of"]

Event = Mapping[str, Any]
Token = str | SpecialChars  # one literal character or a wildcard

_RE_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
    SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
    SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
}
_DIGITS = frozenset("0123456789")


class OracleError(Exception):
    """The rule uses something the oracle does not model (so no verdict can be given)."""


def matches(rule: SigmaRule, event: Event) -> bool:
    """Whether `rule` (log source ignored) fires on `event`."""
    return any(_node(cond.parsed, event) for cond in rule.detection.parsed_condition)


def holds(node: object, event: Event) -> bool:
    """Whether one node of a parsed condition tree is true for `event`."""
    return _node(node, event)


def text_of(value: Any) -> str | None:
    """An event value as Sigma compares it: strings as is, numbers/booleans in JSON text form,
    null as absent. Nested values are outside the oracle's model."""
    if value is None:
        return None
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    raise OracleError(f"nested event value {value!r}")


def _node(node: object, event: Event) -> bool:
    if isinstance(node, ConditionAND):
        return all(_node(arg, event) for arg in node.args)
    if isinstance(node, ConditionOR):
        return any(_node(arg, event) for arg in node.args)
    if isinstance(node, ConditionNOT):
        return not _node(node.args[0], event)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _field(node.field, node.value, event)
    if isinstance(node, ConditionValueExpression):
        return _keyword(node.value, event)
    raise OracleError(f"condition node {type(node).__name__}")


# --- field = value ---------------------------------------------------------------------------


def _field(name: str, value: SigmaType, event: Event) -> bool:
    if isinstance(value, SigmaExpansion):
        return any(_field(name, v, event) for v in value.values)
    present = event.get(name) is not None
    if isinstance(value, SigmaNull):
        return not present
    if isinstance(value, SigmaExists):
        return present == bool(value)
    if not present:
        return False
    text = text_of(event[name])
    assert text is not None
    if isinstance(value, SigmaString):  # SigmaCasedString is a SigmaString
        return _wildcard(_tokens(value), text, cased=isinstance(value, SigmaCasedString))
    if isinstance(value, SigmaNumber | SigmaBool):
        return text.lower() == str(text_of(_plain(value))).lower()
    if isinstance(value, SigmaRegularExpression):
        return _regex(value, text)
    if isinstance(value, SigmaCIDRExpression):
        return _in_network(text, value.cidr)
    if isinstance(value, SigmaCompareExpression):
        return _compare(text, value)
    if isinstance(value, SigmaFieldReference):
        other = text_of(event.get(value.field))
        if other is None:
            return False
        return _field_ref(text.lower(), other.lower(), value)
    raise OracleError(f"value type {type(value).__name__}")


def _plain(value: SigmaNumber | SigmaBool) -> int | float | bool:
    return value.boolean if isinstance(value, SigmaBool) else value.number


def _regex(value: SigmaRegularExpression, text: str) -> bool:
    flags = 0
    for flag in value.flags:
        flags |= _RE_FLAGS[flag]
    return re.search(str(value.regexp), text, flags) is not None


def _in_network(text: str, cidr: str) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    network = ipaddress.ip_network(cidr, strict=False)
    return address.version == network.version and address in network


def _number(text: str) -> float | None:
    """`text` as a number when it is exactly a JSON number (RFC 8259 §6), else None."""
    i, n = 0, len(text)

    def digits(at: int) -> int:
        while at < n and text[at] in _DIGITS:
            at += 1
        return at

    if i < n and text[i] == "-":
        i += 1
    end = digits(i)
    if end == i or (end - i > 1 and text[i] == "0"):
        return None
    i = end
    if i < n and text[i] == ".":
        end = digits(i + 1)
        if end == i + 1:
            return None
        i = end
    if i < n and text[i] in "eE":
        i += 1
        if i < n and text[i] in "+-":
            i += 1
        end = digits(i)
        if end == i:
            return None
        i = end
    return float(text) if i == n else None


def _compare(text: str, value: SigmaCompareExpression) -> bool:
    number = _number(text)
    if number is None:
        return False
    limit = value.number.number
    op = value.op
    if op is CompareOperators.LT:
        return number < limit
    if op is CompareOperators.LTE:
        return number <= limit
    if op is CompareOperators.GT:
        return number > limit
    if op is CompareOperators.GTE:
        return number >= limit
    raise OracleError(f"compare operator {op}")


def _field_ref(text: str, other: str, ref: SigmaFieldReference) -> bool:
    if ref.starts_with and ref.ends_with:
        return other in text
    if ref.starts_with:
        return text.startswith(other)
    if ref.ends_with:
        return text.endswith(other)
    return text == other


# --- keywords --------------------------------------------------------------------------------


def _keyword(value: SigmaType, event: Event) -> bool:
    if isinstance(value, SigmaExpansion):
        return any(_keyword(v, event) for v in value.values)
    if isinstance(value, SigmaString):
        pattern = [SpecialChars.WILDCARD_MULTI, *_tokens(value), SpecialChars.WILDCARD_MULTI]
        cased = isinstance(value, SigmaCasedString)
    elif isinstance(value, SigmaNumber | SigmaBool):
        pattern = [
            SpecialChars.WILDCARD_MULTI,
            *str(text_of(_plain(value))),
            SpecialChars.WILDCARD_MULTI,
        ]
        cased = False
    elif isinstance(value, SigmaRegularExpression):
        return any(_regex(value, text) for text in _values(event))
    else:
        raise OracleError(f"keyword value type {type(value).__name__}")
    return any(_wildcard(pattern, text, cased=cased) for text in _values(event))


def _values(event: Event) -> list[str]:
    return [t for t in (text_of(v) for v in event.values()) if t is not None]


# --- wildcard matching -----------------------------------------------------------------------


def _tokens(value: SigmaString) -> list[Token]:
    tokens: list[Token] = []
    for part in value.s:
        if isinstance(part, SpecialChars):
            tokens.append(part)
        elif isinstance(part, str):
            tokens.extend(part)
        else:
            raise OracleError(f"placeholder {part!r} in a value")
    return tokens


def _wildcard(pattern: list[Token], text: str, *, cased: bool) -> bool:
    """Whole-`text` match of `pattern` (`*` any run, `?` one character), iteratively with the
    classic single-backtrack-point algorithm for `*`."""
    if not cased:
        text = text.lower()
        lowered: list[Token] = []
        for item in pattern:
            lowered.extend(item.lower() if isinstance(item, str) else [item])
        pattern = lowered
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        token = pattern[p] if p < len(pattern) else None
        if token is SpecialChars.WILDCARD_MULTI:
            star_p, star_t = p, t
            p += 1
        elif token is SpecialChars.WILDCARD_SINGLE or (token is not None and token == text[t]):
            p += 1
            t += 1
        elif star_p >= 0:
            star_t += 1
            p, t = star_p + 1, star_t
        else:
            return False
    return all(tok is SpecialChars.WILDCARD_MULTI for tok in pattern[p:])
