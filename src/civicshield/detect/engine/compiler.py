"""Compile a parsed pySigma rule into one Polars boolean expression.

Semantics: `docs/detect-semantics.md`.

Columns the expressions read, per field `F` the rules name:

* `F`: the original value as a string (numbers in their JSON text form), null when absent;
* `lower_name(F)`: the same, lower-cased (once per batch, by `evaluate`): Sigma string matching
  is case-insensitive unless `|cased`;
* `VALUES_FIELD` (only for keyword rules): every scalar value of the event, each escaped, joined
  by `\\x1f` (`civicshield.detect.engine.values`).

Every leaf is `fill_null(False)`: an absent field never matches, so `not filter` on an absent
field is true (Sigma semantics). Each rule also gets its necessary literals (`atoms`): `evaluate`
finds them for all rules at once (one Aho-Corasick pass per column) and runs a rule's expression
only on the rows where one of them occurs.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Protocol

import polars as pl
from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionItem,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    Placeholder,
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

from civicshield.detect.engine.atoms import rule_atoms
from civicshield.detect.engine.cidr import network_pattern
from civicshield.detect.engine.logsources import route_windows
from civicshield.detect.engine.model import (
    ENGINE_VERSION,
    VALUES_FIELD,
    Clauses,
    CompiledRule,
    CompiledRuleSet,
    NoRoute,
    Route,
    Unsupported,
    lower_name,
)
from civicshield.detect.engine.values import ESCAPE, ESCAPED_SEPARATOR, SEPARATOR
from civicshield.detect.sigma.model import RuleInfo

__all__ = [
    "ENGINE_VERSION",
    "VALUES_FIELD",
    "CompiledRule",
    "CompiledRuleSet",
    "LogsourceMapping",
    "Unsupported",
    "WindowsNativeMapping",
    "compile_rule",
    "compile_rules",
    "lower_name",
]

_RX_SPECIAL = frozenset("\\.+*?()|[]{}^$#&-~")


class LogsourceMapping(Protocol):
    """Where a rule's events are (`route`) and how Sigma field names map to columns."""

    def route(self, rule: RuleInfo) -> Route | NoRoute: ...

    def field(self, name: str) -> str: ...


class WindowsNativeMapping:
    """Flattened Windows JSON with native Sysmon/Windows field names (`events.jsonl` shape)."""

    def route(self, rule: RuleInfo) -> Route | NoRoute:
        return route_windows(rule.product, rule.category, rule.service)

    def field(self, name: str) -> str:
        return name


class _Unsupported(Exception):
    pass


def compile_rules(
    rules: Sequence[RuleInfo], mapping: LogsourceMapping | None = None
) -> CompiledRuleSet:
    """Compile every rule; the ones that cannot be compiled are kept with their reason."""
    chosen = mapping or WindowsNativeMapping()
    result = CompiledRuleSet()
    for rule in rules:
        compiled = compile_rule(rule, chosen)
        if isinstance(compiled, Unsupported):
            result.unsupported.append(compiled)
        else:
            result.rules.append(compiled)
    return result


def compile_rule(rule: RuleInfo, mapping: LogsourceMapping) -> CompiledRule | Unsupported:
    """One rule → one boolean expression (or the reason it cannot be compiled)."""
    if rule.kind != "rule" or not isinstance(rule.sigma, SigmaRule):
        if rule.kind == "correlation":  # `civicshield detect` runs them (engine.correlation)
            return Unsupported(
                rule, "correlation rule: run over its base rules' matches, not as an expression"
            )
        return Unsupported(rule, f"{rule.kind} rules are not supported yet")
    route = mapping.route(rule)
    if isinstance(route, NoRoute):
        return Unsupported(rule, route.reason)
    compiler = _Compiler(mapping)
    try:
        conditions = [c.parsed for c in rule.sigma.detection.parsed_condition]
        exprs = [compiler.node(c) for c in conditions]
    except _Unsupported as exc:
        return Unsupported(rule, str(exc))
    except SigmaError as exc:
        return Unsupported(rule, f"pySigma: {exc}")
    expr = _any(exprs)
    atoms = _keyword_safe(rule_atoms(conditions, mapping.field, VALUES_FIELD))
    return CompiledRule(rule, expr, route, frozenset(compiler.fields) | route.fields, atoms)


class _Compiler:
    def __init__(self, mapping: LogsourceMapping) -> None:
        self.mapping = mapping
        self.fields: set[str] = set()

    def node(self, node: object) -> pl.Expr:
        if isinstance(node, ConditionAND):
            return _all([self.node(a) for a in node.args])
        if isinstance(node, ConditionOR):
            return _any(self.or_args(node.args))
        if isinstance(node, ConditionNOT):
            return ~self.node(node.args[0])
        if isinstance(node, ConditionFieldEqualsValueExpression):
            return self.field_value(self.mapping.field(node.field), node.value)
        if isinstance(node, ConditionValueExpression):
            return self.keyword(node.value)
        if node is None:
            raise _Unsupported("empty condition")
        if isinstance(node, ConditionItem):
            raise _Unsupported(f"condition element {type(node).__name__}")
        raise _Unsupported(f"condition element {type(node).__name__}")

    def or_args(self, args: Sequence[object]) -> list[pl.Expr]:
        """OR-ed children; plain equality / contains values of one field become one `is_in` /
        `contains_any` (Aho-Corasick) pass instead of thousands of expressions."""
        exprs: list[pl.Expr] = []
        grouped: dict[tuple[str, str], list[str]] = {}
        networks: dict[str, list[IPv4Network | IPv6Network]] = {}
        for arg in args:
            if isinstance(arg, ConditionFieldEqualsValueExpression):
                if isinstance(arg.value, SigmaCIDRExpression):  # one regex for the whole list
                    networks.setdefault(self.mapping.field(arg.field), []).append(arg.value.network)
                    continue
                simple = _simple(arg.value)
                if simple is not None:
                    grouped.setdefault((self.mapping.field(arg.field), simple[0]), []).append(
                        simple[1]
                    )
                    continue
            exprs.append(self.node(arg))
        for (name, kind), texts in grouped.items():
            self.fields.add(name)
            lower = pl.col(lower_name(name))
            unique = sorted(set(texts))
            if kind == "eq":
                exprs.append(lower.is_in(unique).fill_null(False))
            elif kind == "contains":
                exprs.append(lower.str.contains_any(unique).fill_null(False))
            elif len(unique) == 1:
                test = lower.str.starts_with if kind == "startswith" else lower.str.ends_with
                exprs.append(test(unique[0]).fill_null(False))
            else:  # one alternation instead of hundreds of nodes (planning cost per node)
                body = "|".join(_rx_escape(t) for t in unique)
                pattern = f"(?s)^(?:{body})" if kind == "startswith" else f"(?s)(?:{body})$"
                exprs.append(lower.str.contains(pattern).fill_null(False))
        for name, nets in networks.items():
            self.fields.add(name)
            exprs.append(_cidr(pl.col(name), nets))
        return exprs

    # -- field: value -------------------------------------------------------------------
    def field_value(self, name: str, value: SigmaType) -> pl.Expr:
        if isinstance(value, SigmaExpansion):
            return _any([self.field_value(name, v) for v in value.values])
        self.fields.add(name)
        original = pl.col(name)
        lower = pl.col(lower_name(name))
        if isinstance(value, SigmaNull):
            return original.is_null()
        if isinstance(value, SigmaExists):
            return original.is_not_null() if value.exists else original.is_null()
        if isinstance(value, SigmaCasedString):
            return _string_match(original, value, lowercase=False)
        if isinstance(value, SigmaString):
            return _string_match(lower, value, lowercase=True)
        if isinstance(value, SigmaBool):
            return (lower == ("true" if value.boolean else "false")).fill_null(False)
        if isinstance(value, SigmaNumber):
            return (original == _number_text(value)).fill_null(False)
        if isinstance(value, SigmaRegularExpression):
            return _regex_match(original, value)
        if isinstance(value, SigmaCIDRExpression):
            return _cidr(original, [value.network])
        if isinstance(value, SigmaCompareExpression):
            return _compare(original, value)
        if isinstance(value, SigmaFieldReference):
            other_name = self.mapping.field(value.field)
            self.fields.add(other_name)
            other = pl.col(lower_name(other_name))
            if value.starts_with and value.ends_with:  # `fieldref|contains`
                expr = lower.str.contains(other, literal=True)
            elif value.starts_with:
                expr = lower.str.starts_with(other)
            elif value.ends_with:
                expr = lower.str.ends_with(other)
            else:
                expr = lower == other
            return expr.fill_null(False)
        raise _Unsupported(f"value type {type(value).__name__} (field {name})")

    # -- keywords (field-less values) ---------------------------------------------------------
    def keyword(self, value: SigmaType) -> pl.Expr:
        if isinstance(value, SigmaExpansion):
            return _any([self.keyword(v) for v in value.values])
        self.fields.add(VALUES_FIELD)
        if isinstance(value, SigmaNumber):
            value = SigmaString(_number_text(value))
        if isinstance(value, SigmaString):
            cased = isinstance(value, SigmaCasedString)
            column = pl.col(VALUES_FIELD if cased else lower_name(VALUES_FIELD))
            parts = [
                p if isinstance(p, SpecialChars) else (p if cased else p.lower())
                for p in _parts(value)
            ]
            if all(isinstance(p, str) for p in parts):
                text = "".join(str(p) for p in parts)
                if not _KEYWORD_UNSAFE.intersection(text):
                    # no separator or escape characters: a literal hit lies inside one value
                    return column.str.contains(text, literal=True).fill_null(False)
            return column.str.contains(_keyword_regex(parts)).fill_null(False)
        raise _Unsupported(f"keyword value type {type(value).__name__}")


_RX_SEP = f"\\x{{{ord(SEPARATOR):x}}}"
_RX_ESC = f"\\x{{{ord(ESCAPE):x}}}"
_RX_ESCAPED = f"[\\x{{{ord(ESCAPE):x}}}\\x{{{ord(ESCAPED_SEPARATOR):x}}}]"
# one character of a value in `VALUES_FIELD`: a plain one or an escape pair
_RX_CHAR = f"(?:[^{_RX_ESC}{_RX_SEP}]|{_RX_ESC}{_RX_ESCAPED})"
_KEYWORD_UNSAFE = frozenset((SEPARATOR, ESCAPE, ESCAPED_SEPARATOR))


def _keyword_regex(parts: list[str | SpecialChars]) -> str:
    """A keyword as a regex over the escaped values: `*` is any run of (escaped) characters, `?`
    one, neither crosses `SEPARATOR`. A hit must start on a character boundary of one value:
    when the pattern (without leading `*`, needless in a search) starts with a literal and no
    literal holds U+001D-U+001F, it can only start on a plain character, so a plain search is
    exact (and keeps the regex engine's literal prefilter); otherwise the regex walks the value
    one character at a time from its start."""
    trimmed = list(parts)
    while len(trimmed) > 1 and trimmed[0] is SpecialChars.WILDCARD_MULTI:
        trimmed.pop(0)
    body = "".join(_keyword_part(p) for p in trimmed)
    safe = all(isinstance(p, SpecialChars) or not _KEYWORD_UNSAFE.intersection(p) for p in trimmed)
    if safe and isinstance(trimmed[0], str) and trimmed[0]:
        return "(?s)" + body
    return f"(?s)(?:^|{_RX_SEP}){_RX_CHAR}*?{body}"


def _keyword_part(part: str | SpecialChars) -> str:
    """Regex of a keyword piece against escaped values (`values.escape_value`)."""
    if part is SpecialChars.WILDCARD_MULTI:
        return _RX_CHAR + "*"
    if part is SpecialChars.WILDCARD_SINGLE:
        return _RX_CHAR
    text = str(part).replace(ESCAPE, ESCAPE + ESCAPE)
    return _rx_escape(text.replace(SEPARATOR, ESCAPE + ESCAPED_SEPARATOR))


def _keyword_safe(clauses: Clauses) -> Clauses:
    """The clauses without those with a keyword atom holding an escaped character: such a text
    does not occur as such in the escaped `VALUES_FIELD` (dropping a clause stays sound)."""
    if clauses is None:
        return None
    kept = tuple(
        clause
        for clause in clauses
        if not any(c == VALUES_FIELD and {ESCAPE, SEPARATOR} & set(t) for c, t in clause)
    )
    return kept or None


def _any(exprs: Sequence[pl.Expr]) -> pl.Expr:
    """OR as one n-ary node: a left-deep `a | b | …` of hundreds of operands costs Polars
    milliseconds of planning per evaluation. Operands are never null (`fill_null(False)`)."""
    return exprs[0] if len(exprs) == 1 else pl.any_horizontal(exprs)


def _all(exprs: Sequence[pl.Expr]) -> pl.Expr:
    return exprs[0] if len(exprs) == 1 else pl.all_horizontal(exprs)


def _simple(value: SigmaType) -> tuple[str, str] | None:
    """("eq" | "contains" | "startswith" | "endswith", lower-cased text) for a plain
    case-insensitive string value."""
    if not isinstance(value, SigmaString) or isinstance(value, SigmaCasedString):
        return None
    parts = value.s
    many = SpecialChars.WILDCARD_MULTI
    if len(parts) == 1 and isinstance(parts[0], str):
        return ("eq", parts[0].lower())
    if len(parts) == 3 and parts[0] is many and parts[2] is many and isinstance(parts[1], str):
        return ("contains", parts[1].lower())
    if len(parts) == 2 and parts[1] is many and isinstance(parts[0], str):
        return ("startswith", parts[0].lower())
    if len(parts) == 2 and parts[0] is many and isinstance(parts[1], str):
        return ("endswith", parts[1].lower())
    return None


def _number_text(value: SigmaNumber) -> str:
    return str(value.number)


def _parts(value: SigmaString) -> list[str | SpecialChars]:
    parts: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, Placeholder):
            raise _Unsupported(f"placeholder %{part.name}% is not resolved (expand modifier)")
        parts.append(part)
    return parts


def _rx_escape(text: str) -> str:
    out = []
    for char in text:
        if char in _RX_SPECIAL:
            out.append("\\" + char)
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\x{{{ord(char):x}}}")
        else:
            out.append(char)
    return "".join(out)


def _rx_part(part: str | SpecialChars, cased: bool) -> str:
    if part is SpecialChars.WILDCARD_MULTI:
        return ".*"
    if part is SpecialChars.WILDCARD_SINGLE:
        return "."
    text = str(part)
    return _rx_escape(text if cased else text.lower())


def _string_match(column: pl.Expr, value: SigmaString, lowercase: bool) -> pl.Expr:
    """Sigma string value (wildcards `*` `?`, escapes already resolved by pySigma)."""
    parts = _parts(value)
    many = SpecialChars.WILDCARD_MULTI

    def text(p: str | SpecialChars) -> str:
        return str(p).lower() if lowercase else str(p)

    if not parts:
        expr = column == ""
    elif all(isinstance(p, str) for p in parts):
        expr = column == "".join(text(p) for p in parts)
    elif parts == [many]:
        expr = column.is_not_null()
    elif len(parts) == 3 and parts[0] is many and parts[2] is many and isinstance(parts[1], str):
        expr = column.str.contains(text(parts[1]), literal=True)
    elif len(parts) == 2 and parts[1] is many and isinstance(parts[0], str):
        expr = column.str.starts_with(text(parts[0]))
    elif len(parts) == 2 and parts[0] is many and isinstance(parts[1], str):
        expr = column.str.ends_with(text(parts[1]))
    else:
        body = "".join(_rx_part(p, not lowercase) for p in parts)
        expr = column.str.contains("(?s)^" + body + "$")
    return expr.fill_null(False)


_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: "i",
    SigmaRegularExpressionFlag.MULTILINE: "m",
    SigmaRegularExpressionFlag.DOTALL: "s",
}


def _regex_match(column: pl.Expr, value: SigmaRegularExpression) -> pl.Expr:
    """`|re`: unanchored search, case-sensitive unless `|i` (Polars' Rust regex; pySigma 2
    already rejects what RE2 cannot compile, such as look-arounds)."""
    pattern = str(value.regexp)
    flags = "".join(sorted(_FLAGS[f] for f in value.flags))
    full = f"(?{flags}){pattern}" if flags else pattern
    try:
        pl.select(pl.lit("").str.contains(full)).item()
    except pl.exceptions.PolarsError as exc:
        raise _Unsupported(f"regular expression {pattern!r}: {exc}") from exc
    return column.str.contains(full).fill_null(False)


def _cidr(column: pl.Expr, networks: Sequence[IPv4Network | IPv6Network]) -> pl.Expr:
    """`|cidr`: the value is an IP address inside one of `networks` (`cidr.network_pattern`)."""
    return column.str.contains(network_pattern(networks)).fill_null(False)


# RFC 8259 §6: what `|lt` … accept as a number (not `NaN`, `inf`, `+1`, `.5`, `1.`, ` 1`)
_JSON_NUMBER = r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$"


def _compare(column: pl.Expr, value: SigmaCompareExpression) -> pl.Expr:
    """`|lt` `|lte` `|gt` `|gte`: the value must be a JSON number (text), compared as a float."""
    number = pl.when(column.str.contains(_JSON_NUMBER)).then(column.cast(pl.Float64, strict=False))
    bound = float(value.number.number)
    ops = {
        CompareOperators.LT: number < bound,
        CompareOperators.LTE: number <= bound,
        CompareOperators.GT: number > bound,
        CompareOperators.GTE: number >= bound,
        CompareOperators.NEQ: number != bound,
    }
    return ops[value.op].fill_null(False)
