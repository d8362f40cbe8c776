"""What the engine compiles to and evaluates: compiled rules, their routes and the rule set.

Free of pySigma so that a warm `civicshield detect` (rules from the compiled rule cache) never
imports it; `compiler` builds these objects from pySigma rules.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import polars as pl

from civicshield.detect.sigma.model import RuleInfo

__all__ = [
    "CHANNEL_FIELD",
    "ENGINE_VERSION",
    "EVENT_ID_FIELD",
    "MAPPING_VERSION",
    "VALUES_FIELD",
    "Clauses",
    "CompiledRule",
    "CompiledRuleSet",
    "FlatAtoms",
    "NoRoute",
    "Route",
    "Unsupported",
    "lower_name",
]

# Part of the compiled rule cache key (`civicshield.detect.cache`). Bump it whenever a change
# here or in `evaluate` would make an expression compiled by the previous code wrong or stale:
# a new or changed translation of a value / modifier / condition, a renamed column convention
# (`lower_name`, `VALUES_FIELD`), new `CompiledRule` / `RuleInfo` fields the evaluator reads.
# Pure refactors that produce identical expressions need no bump.
ENGINE_VERSION = "5"

# Part of the compiled rule cache key (`civicshield.detect.cache`). Bump it whenever a routing
# table (`SYSMON_CATEGORIES`, `POWERSHELL_CATEGORIES`, the service channels), `route_windows` or
# a `LogsourceMapping`'s field mapping changes, so cached routes/field names are rebuilt. (The
# pySigma version is also part of the key, which covers `windows_logsource_mapping` updates.)
MAPPING_VERSION = "4"

VALUES_FIELD = "_values"  # all scalar values of an event, joined by \x1f (keyword rules)
CHANNEL_FIELD = "Channel"
EVENT_ID_FIELD = "EventID"
_LOWER_PREFIX = "\x00lc:"

# (column, lower-cased text) atoms in conjunctive normal form (`civicshield.detect.engine.atoms`)
Clauses = tuple[frozenset[tuple[str, str]], ...] | None


def lower_name(field_name: str) -> str:
    """Name of the lower-cased copy of a field's column."""
    return _LOWER_PREFIX + field_name


@dataclass(frozen=True)
class Route:
    """Which events a rule sees: the channel field in `channels` (case-insensitive), the event
    id field in `event_ids` (exact text) and each `(field, values)` of `extra` in its values
    (case-insensitive); an empty tuple means no restriction. The field names are those of the
    mapping (`Channel`/`EventID` for native Windows JSON, `winlog.channel`/`winlog.event_id`
    for Winlogbeat)."""

    channels: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    channel_field: str = CHANNEL_FIELD
    event_id_field: str = EVENT_ID_FIELD
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def fields(self) -> frozenset[str]:
        found = {name for name, _ in self.extra}
        if self.channels:
            found.add(self.channel_field)
        if self.event_ids:
            found.add(self.event_id_field)
        return frozenset(found)

    def expr(self, lower: dict[str, str]) -> pl.Expr:
        """The predicate; `lower` names the lower-cased column of each field."""
        parts: list[pl.Expr] = []
        if self.channels:
            wanted = sorted({c.lower() for c in self.channels})
            parts.append(pl.col(lower[self.channel_field]).is_in(wanted).fill_null(False))
        if self.event_ids:
            ids = list(self.event_ids)
            parts.append(pl.col(self.event_id_field).is_in(ids).fill_null(False))
        for name, values in self.extra:
            wanted = sorted({v.lower() for v in values})
            parts.append(pl.col(lower[name]).is_in(wanted).fill_null(False))
        if not parts:
            return pl.lit(True)
        return parts[0] if len(parts) == 1 else pl.all_horizontal(parts)

    def describe(self) -> str:
        channel = "|".join(self.channels) or "*"
        ids = "|".join(self.event_ids) or "*"
        text = f"{self.channel_field}={channel} {self.event_id_field}={ids}"
        for name, values in self.extra:
            text += f" {name}={'|'.join(values)}"
        return text


@dataclass(frozen=True)
class NoRoute:
    reason: str


class FlatAtoms:
    """The atoms of many rules as parallel lists (the compiled rule cache's layout): a rule's
    atoms are rows `start:end`, ordered by clause number. Building the pre-filter plan from
    slices of these lists skips a Python step per atom, and a rule's `frozenset` clauses are
    only built when someone asks for them."""

    __slots__ = ("clauses", "columns", "texts")

    def __init__(self, clauses: list[int], columns: list[str], texts: list[str]) -> None:
        if not len(clauses) == len(columns) == len(texts):
            raise ValueError("atom lists of different lengths")
        self.clauses = clauses
        self.columns = columns
        self.texts = texts

    def clauses_of(self, start: int, end: int, count: int) -> Clauses:
        """The clauses of the rule at rows `start:end` that has `count` clauses."""
        found: list[set[tuple[str, str]]] = [set() for _ in range(count)]
        for at in range(start, end):
            found[self.clauses[at]].add((self.columns[at], self.texts[at]))
        return tuple(frozenset(clause) for clause in found)


class CompiledRule:
    """One rule compiled: its expression, route, the columns it reads and its pre-filter
    clauses. A rule read from the compiled rule cache keeps its expression in Polars' binary
    form, and its clauses as rows of a shared `FlatAtoms`, until first used: most rules never
    have a candidate row in a run."""

    __slots__ = ("_atoms", "_blob", "_expr", "fields", "flat_atoms", "route", "rule")

    def __init__(
        self,
        rule: RuleInfo,
        expr: pl.Expr | None,
        route: Route,
        fields: frozenset[str],
        atoms: Clauses = None,
        *,
        blob: bytes | None = None,
        flat_atoms: tuple[FlatAtoms, int, int, int] | None = None,
    ) -> None:
        if expr is None and blob is None:
            raise ValueError("a compiled rule needs an expression or its serialised form")
        if atoms is not None and flat_atoms is not None:
            raise ValueError("a compiled rule's atoms are given once")
        self.rule = rule
        self.route = route
        self.fields = fields  # columns the expression reads (route fields included)
        self._atoms = atoms
        # (shared lists, start, end, number of clauses): the atoms as rows of `FlatAtoms`
        self.flat_atoms = flat_atoms
        self._expr = expr
        self._blob = blob

    @property
    def atoms(self) -> Clauses:
        """Necessary (column, lower-cased text) clauses for the candidate pre-filter; None:
        every row of the route is a candidate (`civicshield.detect.engine.atoms`)."""
        if self._atoms is None and self.flat_atoms is not None:
            shared, start, end, count = self.flat_atoms
            self._atoms = shared.clauses_of(start, end, count)
        return self._atoms

    @property
    def has_atoms(self) -> bool:
        return self._atoms is not None or self.flat_atoms is not None

    @property
    def expr(self) -> pl.Expr:
        if self._expr is None:
            assert self._blob is not None
            self._expr = pl.Expr.deserialize(io.BytesIO(self._blob), format="binary")
        return self._expr

    def __repr__(self) -> str:
        return f"CompiledRule({self.rule.id!r}, {self.route.describe()})"


@dataclass(frozen=True)
class Unsupported:
    rule: RuleInfo
    reason: str

    def __str__(self) -> str:
        return f"{self.rule.path}: {self.reason}"


@dataclass
class CompiledRuleSet:
    rules: list[CompiledRule] = field(default_factory=list)
    unsupported: list[Unsupported] = field(default_factory=list)

    @property
    def fields(self) -> frozenset[str]:
        """Every event field some rule reads (`VALUES_FIELD` when keyword rules exist)."""
        return frozenset().union(*(r.fields for r in self.rules))

    @property
    def needs_values(self) -> bool:
        return VALUES_FIELD in self.fields
