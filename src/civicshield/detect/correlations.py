"""Which Sigma correlation rules a compiled rule set holds, compiled for `correlate`; shared by
`civicshield detect` and continuous detection (`civicshield.detect.live`).

    if has_correlations(ruleset):
        plan = plan_correlations(ruleset, accepts=selection.accepts, mapping="combined",
                                 files=rule_files)
        plan.correlations, plan.base_ids, plan.generating, plan.fields

The compiled cache keeps no pySigma objects: the compiler lists every correlation rule as
unsupported, with its metadata. So a warm start re-parses the files holding correlation rules
(and, for a reference by rule `name` that is not an id, the files that mention that name); a rule
set without correlation rules imports no pySigma and parses nothing. A correlation whose base
rule is not compiled is rejected with the reason: it would count fewer events than happened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from civicshield.detect.engine.correlation import CompiledCorrelation
    from civicshield.detect.engine.model import CompiledRuleSet, Unsupported
    from civicshield.detect.sigma.model import RuleInfo

__all__ = ["CorrelationPlan", "has_correlations", "plan_correlations", "rules_with_sigma"]


@dataclass(frozen=True)
class CorrelationPlan:
    """The runnable correlation rules of a selection, and what running them needs."""

    correlations: tuple[CompiledCorrelation, ...] = ()
    rejected: tuple[Unsupported, ...] = ()  # selected correlation rules that cannot run
    # each event field the correlations read (Sigma name) -> the column holding it (mapped)
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def base_ids(self) -> frozenset[str]:
        """The rules whose matches feed some correlation."""
        return frozenset(b for c in self.correlations for b in c.base_rules)

    @property
    def generating(self) -> frozenset[str]:
        """Base rules of a `generate: true` correlation: their own matches are output too
        (`generate: false`, the default, keeps them out, Sigma correlation spec, *Generate*)."""
        return frozenset(b for c in self.correlations if c.generate for b in c.base_rules)


def has_correlations(ruleset: CompiledRuleSet) -> bool:
    """Whether `ruleset` (as compiled or cached) holds any correlation rule."""
    # the compiler keeps every correlation rule as unsupported ("correlation rules are not
    # supported yet"), with its metadata, so the cached set says whether any exists
    return any(u.rule.kind == "correlation" for u in ruleset.unsupported)


def rules_with_sigma(
    ruleset: CompiledRuleSet, files: Sequence[Path], parsed: Sequence[RuleInfo] | None = None
) -> list[RuleInfo]:
    """Every rule of `ruleset`, the correlation rules (and the rules they name) with their
    pySigma objects: `parsed` (a cold run's rules) when given, else the cached rules with the
    files holding correlation rules parsed again. `files`: every rule file of the set, searched
    only for a reference by a rule `name` that no parsed file defines."""
    if parsed is not None:
        return list(parsed)
    # through the package, where the CLI's tests watch it (a warm run parses only these files)
    from civicshield.detect import load_rules

    cached = [r.rule for r in ruleset.rules] + [u.rule for u in ruleset.unsupported]
    by_id = {r.id: r for r in cached}
    wanted = sorted({u.rule.source for u in ruleset.unsupported if u.rule.kind == "correlation"})
    found = load_rules(wanted).rules  # its problems were reported when the cache was built
    names = {str(n) for r in found if (n := getattr(r.sigma, "name", None))}
    unresolved = {
        str(ref.reference)
        for r in found
        for ref in getattr(r.sigma, "rules", None) or ()
        if ref.reference not in by_id and ref.reference not in names
    }
    if unresolved:  # a reference by `name`: parse the files that mention the name
        done = set(wanted)
        mentioning = [
            f
            for f in files
            if f not in done and any(n.encode() in f.read_bytes() for n in unresolved)
        ]
        if mentioning:
            found += load_rules(mentioning).rules
    for info in found:
        if info.id in by_id:  # keep the cached metadata (its path is relative to the root)
            by_id[info.id] = replace(by_id[info.id], sigma=info.sigma)
    return list(by_id.values())


def plan_correlations(
    ruleset: CompiledRuleSet,
    *,
    accepts: Callable[[RuleInfo], bool],
    mapping: str,
    files: Sequence[Path],
    parsed: Sequence[RuleInfo] | None = None,
) -> CorrelationPlan:
    """The correlation rules of `ruleset` that `accepts` selects, compiled; those that cannot
    run (selected ones only) with reasons; and the columns of the fields they read under
    `mapping` (the compiled set's mapping). Empty when the set holds no correlation rule."""
    if not has_correlations(ruleset):
        return CorrelationPlan()
    from civicshield.detect.engine.correlation import compile_correlations
    from civicshield.detect.engine.mappings import mapping_named
    from civicshield.detect.engine.model import Unsupported

    compiled, rejected = compile_correlations(rules_with_sigma(ruleset, files, parsed))
    runnable = {r.rule.id for r in ruleset.rules}
    why = {u.rule.id: u.reason for u in ruleset.unsupported}
    kept: list[CompiledCorrelation] = []
    for corr in compiled:
        if not accepts(corr.rule):
            continue
        missing = [b for b in corr.base_rules if b not in runnable]
        if missing:  # it would count fewer events than happened: say so instead
            reasons = "; ".join(f"{b}: {why.get(b, 'not loaded')}" for b in missing)
            rejected.append(Unsupported(corr.rule, f"base rule not compiled ({reasons})"))
        else:
            kept.append(corr)
    # group-by and value fields are Sigma field names: the mapping names their columns,
    # as pySigma's pipelines map a correlation's fields
    names = sorted({f for c in kept for b in c.base_rules for f in c.fields(b)})
    columns = {name: mapping_named(mapping).field(name) for name in names}
    return CorrelationPlan(
        correlations=tuple(kept),
        rejected=tuple(u for u in rejected if accepts(u.rule)),
        fields=columns,
    )
