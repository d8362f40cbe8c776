"""Necessary literals ("atoms") of a rule, for the candidate pre-filter in `evaluate`.

An atom is (column, text): the lower-cased value of `column` contains `text`. A rule's atoms
form clauses in conjunctive normal form: whenever the rule matches an event, every clause has
at least one atom that holds on that event. `evaluate` finds, for every column, which atoms hold
on which rows (one Aho-Corasick pass per column over all rules' texts) and runs a rule's full
expression only on the rows where all its clauses hold. A rule without clauses (`None`: e.g.
`not filter` alone, numeric comparisons, short values) runs on every row of its log source.

Clauses: `a and b` keeps the clauses of both; `a or b` gives one clause, the union of the most
selective clause of each side. Within one clause, the atom set is derived as follows (a sound
over-approximation, never a guess):

* `field: value` (plain, cased, wildcards): the longest literal piece between wildcards, lower-
  cased (a value containing the whole pattern contains each piece). Numbers and booleans: their
  text. `|cidr`: IPv4, each of pySigma's network prefixes (addresses are strict dotted quads);
  IPv6, the leading literal groups (`cidr.ipv6_atoms`), `None` when the network starts with a
  zero digit. `|re`: a literal run the regular expression cannot match without (parsed with
  Python's `re` parser; alternations give one atom per branch; anything not understood gives
  `None`). Keywords: the same on `VALUES_FIELD`.
* value lists, expansions (`windash`, `base64offset`), `a or b`: the union, `None` if any is.
* `not a`, `null`, `exists`, comparisons, field references: `None` (no clause).

Texts shorter than `MIN_TEXT` characters are treated as `None` (they would match nearly every
row and only cost time).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv6Network
from re import _parser as sre  # type: ignore[attr-defined]

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.types import (
    SigmaBool,
    SigmaCIDRExpression,
    SigmaExpansion,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SigmaType,
)

from civicshield.detect.engine.cidr import ipv6_atoms
from civicshield.detect.engine.model import Clauses

__all__ = ["MIN_TEXT", "Atoms", "Clauses", "rule_atoms"]

MIN_TEXT = 3
Atoms = frozenset[tuple[str, str]] | None


def rule_atoms(
    conditions: Sequence[object], field: Callable[[str], str], values_field: str
) -> Clauses:
    """Clauses of a rule whose parsed conditions (OR-ed) are `conditions`; `field` maps a Sigma
    field name to its column."""
    if len(conditions) == 1:
        return _clauses(conditions[0], field, values_field)
    return _or([_clauses(c, field, values_field) for c in conditions])


def _key(atoms: frozenset[tuple[str, str]]) -> tuple[int, int]:
    return (min(len(t) for _, t in atoms), -len(atoms))


def _or(options: Sequence[Clauses]) -> Clauses:
    found: set[tuple[str, str]] = set()
    for clauses in options:
        if not clauses:
            return None
        best: frozenset[tuple[str, str]] = max(clauses, key=_key)
        found.update(best)
    return (frozenset(found),)


def _clauses(node: object, field: Callable[[str], str], values_field: str) -> Clauses:
    if isinstance(node, ConditionAND):
        kept: dict[frozenset[tuple[str, str]], None] = {}
        for arg in node.args:
            for clause in _clauses(arg, field, values_field) or ():
                kept[clause] = None
        return tuple(kept) or None
    if isinstance(node, ConditionOR):
        return _or([_clauses(a, field, values_field) for a in node.args])
    atoms = _node(node, field, values_field)
    return None if atoms is None else (atoms,)


def _node(node: object, field: Callable[[str], str], values_field: str) -> Atoms:
    """Atoms of a leaf (`field: value` or a keyword); None for anything else (`not`, …)."""
    if isinstance(node, ConditionFieldEqualsValueExpression):
        texts = _value(node.value)
        return None if texts is None else frozenset((field(node.field), t) for t in texts)
    if isinstance(node, ConditionValueExpression):
        texts = _value(node.value)
        return None if texts is None else frozenset((values_field, t) for t in texts)
    return None


def _texts(texts: Iterable[str | None]) -> frozenset[str] | None:
    out: set[str] = set()
    for text in texts:
        if text is None or len(text) < MIN_TEXT:
            return None
        out.add(text)
    return frozenset(out)


def _value(value: SigmaType) -> frozenset[str] | None:
    if isinstance(value, SigmaExpansion):
        found: set[str] = set()
        for item in value.values:
            texts = _value(item)
            if texts is None:
                return None
            found |= texts
        return frozenset(found)
    if isinstance(value, SigmaString):
        return _texts([_longest_piece(value)])
    if isinstance(value, SigmaBool):
        return _texts(["true" if value.boolean else "false"])
    if isinstance(value, SigmaNumber):
        return _texts([str(value.number)])
    if isinstance(value, SigmaCIDRExpression):
        if isinstance(value.network, IPv6Network):
            prefixes = ipv6_atoms(value.network)
            return None if prefixes is None else _texts(prefixes)
        # strict dotted quads (no leading zeros): every address of the network starts with
        # one of pySigma's prefixes (`10.`, `192.168.0.`, …)
        return _texts(_longest_piece(SigmaString(p)) for p in value.expand(wildcard="*"))
    if isinstance(value, SigmaRegularExpression):
        flags = re.IGNORECASE if value.flags else 0
        return _regex(str(value.regexp), flags)
    return None


def _longest_piece(value: SigmaString) -> str | None:
    pieces: list[str] = []
    current: list[str] = []
    for part in value.s:
        if isinstance(part, str):
            current.append(part)
        else:  # a wildcard or a placeholder ends the piece
            pieces.append("".join(current))
            current = []
    pieces.append("".join(current))
    best = max(pieces, key=len)
    return best.lower() if best else None


# -- regular expressions ------------------------------------------------------------------------
def _regex(pattern: str, flags: int) -> frozenset[str] | None:
    try:
        parsed = sre.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError):
        return None
    return _sequence(list(parsed))


def _sequence(items: list[tuple[object, object]]) -> frozenset[str] | None:
    """Atoms of a sequence of regex items: the best of its required literal runs and of its
    required sub-groups."""
    if len(items) == 1 and items[0][0] is sre.BRANCH:
        branches = items[0][1][1]  # type: ignore[index]
        found: set[str] = set()
        for branch in branches:
            texts = _sequence(list(branch))
            if texts is None:
                return None
            found |= texts
        return frozenset(found)
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def close() -> None:
        text = "".join(run).lower()
        if len(text) >= MIN_TEXT:
            candidates.append(frozenset({text}))
        run.clear()

    for op, arg in items:
        if op is sre.LITERAL:
            run.append(chr(arg))  # type: ignore[arg-type]
            continue
        close()
        if op is sre.SUBPATTERN:
            inner = _sequence(list(arg[3]))  # type: ignore[index]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and arg[0] >= 1:  # type: ignore[index]
            inner = _sequence(list(arg[2]))  # type: ignore[index]
        elif op is sre.AT:  # anchors consume nothing
            continue
        else:
            inner = None
        if inner:
            candidates.append(inner)
    close()
    if not candidates:
        return None
    return max(candidates, key=lambda s: (min(len(t) for t in s), -len(s)))
