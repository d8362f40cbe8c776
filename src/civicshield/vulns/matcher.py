"""Match an asset's CPEs against CVE applicability, near-linearly, and say why.

Only criteria that share (part, canonical vendor, canonical product) with one of the asset's CPEs
are looked at (a dict lookup per asset CPE); criteria with a wildcard part/vendor/product are few
and kept in a side list. Configurations touched by a vulnerable criterion are then evaluated with
NVD semantics. Semantics and citations: docs/vulns-matching.md.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any

from civicshield.vulns.applicability import (
    Configuration,
    CpeMatch,
    CveApplicability,
    Node,
    Operator,
    VersionRange,
)
from civicshield.vulns.cpe import (
    ANY,
    ATTRIBUTES,
    NA,
    PRODUCT_ALIASES,
    VENDOR_ALIASES,
    Cpe,
    has_wildcard,
    value_matches,
)
from civicshield.vulns.versions import VersionKey, compare_versions, is_unknown, version_key

__all__ = ["Certainty", "Finding", "Matcher", "criterion_hit"]


class Certainty(IntEnum):
    """How sure a match is; a finding takes the weakest certainty it relied on."""

    POSSIBLE = 1  # the product matches but the asset CPE is too vague (e.g. version unknown)
    AFFECTED = 2


@dataclass(frozen=True, slots=True)
class Finding:
    cve_id: str
    asset_cpe: Cpe
    criterion: CpeMatch
    certainty: Certainty
    configuration: int  # index into the CVE's configurations

    @property
    def why(self) -> str:
        crit = self.criterion
        ident = f" [{crit.match_criteria_id}]" if crit.match_criteria_id else ""
        note = (
            " (possible: asset CPE less specific)" if self.certainty is Certainty.POSSIBLE else ""
        )
        return (
            f"{self.asset_cpe.to_fs()} matches {crit.describe()}{ident} "
            f"in configuration {self.configuration}{note}"
        )


_OTHER = ATTRIBUTES[4:]  # update .. other


def _attributes_hit(crit: Cpe, target: Cpe) -> Certainty | None:
    """IR 7696 on every attribute except version, with one leniency (see criterion_hit)."""
    for src, tgt in zip(crit.key, target.key, strict=True):
        if not value_matches(src, tgt):
            return None
    certainty = Certainty.AFFECTED
    for attr in _OTHER:
        src, tgt = getattr(crit, attr), getattr(target, attr)
        if value_matches(src, tgt):
            continue
        if tgt == ANY:  # IR 7696 SUBSET: the asset may or may not be that update/edition...
            certainty = Certainty.POSSIBLE
            continue
        return None
    return certainty


def criterion_hit(match: CpeMatch, target: Cpe) -> Certainty | None:
    """Does `target` satisfy one cpeMatch? None = no.

    Part, vendor, product (after aliases) and update..other follow IR 7696 (SUPERSET or EQUAL),
    except that an asset attribute left ANY against a concrete criterion value (IR 7696 SUBSET:
    the asset CPE is less specific) gives POSSIBLE instead of no match. Version:
    * criterion ``*`` without range: any target version (AFFECTED);
    * criterion ``*`` with a range: target version in range (AFFECTED); target ``*``/``-``
      cannot be compared (POSSIBLE);
    * criterion ``-`` (NVD: version not determined): target ``-`` AFFECTED, any other
      POSSIBLE; for non-vulnerable "running on" criteria any target version is fine;
    * a concrete criterion version: equal by `compare_versions` or by wildcard (AFFECTED);
      target ``*``/``-`` gives POSSIBLE (or AFFECTED for a running-on platform).
    """
    crit = match.criteria
    base = _attributes_hit(crit, target)
    if base is None:
        return None
    version = _version_hit(match, target)
    return None if version is None else min(base, version)


def _version_hit(match: CpeMatch, target: Cpe) -> Certainty | None:
    crit = match.criteria
    cv, tv = crit.version, target.version
    if cv == ANY:
        if match.range.is_open:
            return Certainty.AFFECTED
        inside = match.range.contains(target.version_text if tv not in (ANY, NA) else None)
        if inside is None:
            return Certainty.POSSIBLE
        return Certainty.AFFECTED if inside else None
    if cv == NA:
        if tv == NA or not match.vulnerable:
            return Certainty.AFFECTED
        return Certainty.POSSIBLE
    if tv in (ANY, NA):
        return Certainty.AFFECTED if not match.vulnerable else Certainty.POSSIBLE
    if has_wildcard(cv):
        return Certainty.AFFECTED if value_matches(cv, tv) else None
    if cv == tv or compare_versions(crit.version_text, target.version_text) == 0:
        if match.range.is_open:
            return Certainty.AFFECTED
        return Certainty.AFFECTED if match.range.contains(target.version_text) else None
    return None


_Ref = tuple[int, int, int, int]  # (cve, configuration, node, criterion) indexes
_Hits = dict[_Ref, list[tuple[Cpe, Certainty]]]

# Version kinds of a prepared criterion.
_V_ANY, _V_RANGE, _V_NA, _V_EXACT, _V_WILD = range(5)


@dataclass(frozen=True, slots=True)
class _Target:
    """An asset CPE with what every comparison needs computed once."""

    cpe: Cpe
    rest: tuple[str, ...]
    vkey: VersionKey | None  # None when the version is ANY or NA


def _target(cpe: Cpe) -> _Target:
    known = cpe.version not in (ANY, NA)
    return _Target(
        cpe,
        tuple(getattr(cpe, a) for a in _OTHER),
        version_key(cpe.version_text) if known else None,
    )


@dataclass(slots=True)  # not frozen: a frozen dataclass __init__ is several times slower
class _Prepared:
    """A criterion with its version bounds pre-tokenised; `hit` == `criterion_hit`."""

    # The (cve, configuration, node, criterion) indexes, not one tuple: half a million fewer
    # GC-tracked objects (and 72 bytes each) when many buckets are prepared.
    vi: int
    ci: int
    ni: int
    mi: int
    match: CpeMatch
    rest: tuple[str, ...]
    rest_any: bool
    vkind: int
    exact: VersionKey | None
    lo: VersionKey | None
    lo_inclusive: bool
    hi: VersionKey | None
    hi_inclusive: bool

    @property
    def ref(self) -> _Ref:
        return (self.vi, self.ci, self.ni, self.mi)

    def hit(self, t: _Target) -> Certainty | None:
        certainty = Certainty.AFFECTED
        if not self.rest_any:
            for src, tgt in zip(self.rest, t.rest, strict=True):
                if src in (ANY, tgt) or value_matches(src, tgt):
                    continue
                if tgt == ANY:
                    certainty = Certainty.POSSIBLE
                    continue
                return None
        version = self._version(t)
        return None if version is None else min(certainty, version)

    def _version(self, t: _Target) -> Certainty | None:
        kind = self.vkind
        if kind == _V_ANY:
            return Certainty.AFFECTED
        vulnerable = self.match.vulnerable
        if kind == _V_NA:
            if t.cpe.version == NA or not vulnerable:
                return Certainty.AFFECTED
            return Certainty.POSSIBLE
        if t.vkey is None:
            if kind == _V_RANGE or vulnerable:
                return Certainty.POSSIBLE
            return Certainty.AFFECTED
        if kind == _V_WILD:
            ok = value_matches(self.match.criteria.version, t.cpe.version)
            return Certainty.AFFECTED if ok else None
        if kind == _V_EXACT and t.vkey != self.exact:
            return None
        return Certainty.AFFECTED if self._in_bounds(t.vkey) else None

    def _in_bounds(self, key: VersionKey) -> bool:
        lo, hi = self.lo, self.hi
        if lo is not None and (key < lo or (key == lo and not self.lo_inclusive)):
            return False
        return not (hi is not None and (key > hi or (key == hi and not self.hi_inclusive)))


def _bound(value: str | None) -> VersionKey | None:
    return None if value is None or is_unknown(value) else version_key(value)


# Two lower (or two upper) bounds at once never occur in NVD data; keep the tighter one.
def _lower(inc: VersionKey | None, exc: VersionKey | None) -> tuple[VersionKey | None, bool]:
    if exc is not None and (inc is None or exc >= inc):
        return exc, False
    return inc, True


def _upper(inc: VersionKey | None, exc: VersionKey | None) -> tuple[VersionKey | None, bool]:
    if exc is not None and (inc is None or exc <= inc):
        return exc, False
    return inc, True


_ALL_ANY = (ANY,) * len(_OTHER)
_Bounds = tuple[VersionKey | None, bool, VersionKey | None, bool]
_OPEN: _Bounds = (None, True, None, True)


def _bounds(rng: VersionRange) -> _Bounds:
    if (
        rng.start_including is None
        and rng.start_excluding is None
        and rng.end_including is None
        and rng.end_excluding is None
    ):
        return _OPEN  # most criteria: skip four is_unknown calls
    return _closed_bounds(rng)


@lru_cache(maxsize=65536)  # many CVEs share a range ("< 6.43"): tokenise it once
def _closed_bounds(rng: VersionRange) -> _Bounds:
    lo_in, lo_ex = _bound(rng.start_including), _bound(rng.start_excluding)
    hi_in, hi_ex = _bound(rng.end_including), _bound(rng.end_excluding)
    return (*_lower(lo_in, lo_ex), *_upper(hi_in, hi_ex))


def _wild(value: str) -> bool:
    # has_wildcard is a regex search; most values have no `*`/`?` character at all.
    return ("*" in value or "?" in value) and has_wildcard(value)


def _prepare(
    ref: _Ref, m: CpeMatch, rests: dict[tuple[str, ...], tuple[str, ...]] | None = None
) -> _Prepared:
    return _prepare_at(*ref, m, rests)


def _prepare_at(
    vi: int,
    ci: int,
    ni: int,
    mi: int,
    m: CpeMatch,
    rests: dict[tuple[str, ...], tuple[str, ...]] | None = None,
) -> _Prepared:
    """Pre-tokenise one criterion; `rests` shares equal update..other tuples (memory)."""
    crit = m.criteria
    rest: tuple[str, ...] = (
        crit.update,
        crit.edition,
        crit.language,
        crit.sw_edition,
        crit.target_sw,
        crit.target_hw,
        crit.other,
    )
    if rests is not None:
        rest = rests.setdefault(rest, rest)
    bounds = _bounds(m.range)
    lo, lo_inclusive, hi, hi_inclusive = bounds
    exact: VersionKey | None = None
    version = crit.version
    if version == ANY:
        # No bound at all (lo and hi None) is exactly `m.range.is_open`.
        kind = _V_ANY if lo is None and hi is None else _V_RANGE
    elif version == NA:
        kind = _V_NA
    elif _wild(version):
        kind = _V_WILD
    else:
        kind = _V_EXACT
        # version_text is a regex substitution; only quoted versions need it.
        exact = version_key(crit.version_text if "\\" in version else version)
    return _Prepared(
        vi, ci, ni, mi, m, rest, rest == _ALL_ANY, kind, exact, lo, lo_inclusive, hi, hi_inclusive
    )


# Flat (cve, configuration, node, criterion index, CpeMatch) runs: no tuple per criterion, so
# grouping a million criteria allocates no GC-tracked object (each would add GC passes).
@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cycle collector while grouping a million criteria (nothing here forms a cycle).

    CPython's collections walk every tracked object, the CVE models included; bench/vulns.py
    measured the build about 15 % faster with them paused.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


_Raw = list[Any]  # int, int, int, int, CpeMatch, int, ...
_Ready = tuple[dict[VersionKey, list[_Prepared]], list[_Prepared]]


class _Bucket:
    """Criteria of one (part, vendor, product): exact versions by key, the rest in a list.

    Built lazily: the index only groups the raw criteria; a bucket tokenises its versions the
    first time an asset CPE looks it up, so products no asset has cost no tokenising at all.
    """

    __slots__ = ("raw", "ready")

    def __init__(self) -> None:
        self.raw: _Raw = []
        self.ready: _Ready | None = None

    def _build(self) -> _Ready:
        by_version: dict[VersionKey, list[_Prepared]] = {}
        others: list[_Prepared] = []
        rests: dict[tuple[str, ...], tuple[str, ...]] = {}
        raw = self.raw
        columns = zip(raw[0::5], raw[1::5], raw[2::5], raw[3::5], raw[4::5], strict=True)
        for vi, ci, ni, mi, m in columns:
            prepared = _prepare_at(vi, ci, ni, mi, m, rests)
            if prepared.exact is not None:
                by_version.setdefault(prepared.exact, []).append(prepared)
            else:
                others.append(prepared)
        ready = (by_version, others)
        self.ready = ready  # one assignment: a concurrent reader sees all or nothing
        return ready

    def candidates(self, t: _Target) -> Iterable[_Prepared]:
        by_version, others = self.ready or self._build()
        if t.vkey is None:
            for group in by_version.values():
                yield from group
        else:
            yield from by_version.get(t.vkey, ())
        yield from others


class Matcher:
    """Index over all match criteria of `cves`; `match` is one asset's CPEs at a time."""

    def __init__(self, cves: Iterable[CveApplicability]) -> None:
        self.cves: list[CveApplicability] = list(cves)
        self._index: dict[tuple[str, str, str], _Bucket] = {}
        self._wild: list[_Prepared] = []
        index = self._index
        wild_keys: set[tuple[str, str, str]] = set()
        with _gc_paused():
            count = self._group(index, wild_keys)
        self.criteria_count = count

    def _group(
        self, index: dict[tuple[str, str, str], _Bucket], wild_keys: set[tuple[str, str, str]]
    ) -> int:
        vendors = VENDOR_ALIASES
        products = PRODUCT_ALIASES
        count = 0
        # Hot loop (a million criteria): `Cpe.key` inlined, wildcard test once per new key,
        # criteria only grouped here (see _Bucket).
        for vi, cve in enumerate(self.cves):
            for ci, conf in enumerate(cve.configurations):
                for ni, node in enumerate(conf.nodes):
                    for mi, m in enumerate(node.cpe_match):
                        count += 1
                        crit = m.criteria
                        vendor = vendors.get(crit.vendor, crit.vendor)
                        product = (
                            products.get((vendor, crit.product), crit.product)
                            if products
                            else crit.product
                        )
                        key = (crit.part, vendor, product)
                        bucket = index.get(key)
                        if bucket is None:
                            if key in wild_keys or any(v == ANY or _wild(v) for v in key):
                                wild_keys.add(key)
                                self._wild.append(_prepare((vi, ci, ni, mi), m))
                                continue
                            bucket = index[key] = _Bucket()
                        bucket.raw += (vi, ci, ni, mi, m)
        return count

    def match(self, asset_cpes: Sequence[Cpe]) -> list[Finding]:
        """Findings for one asset described by all its CPEs (firmware, hardware, software...)."""
        targets = [_target(c) for c in dict.fromkeys(c.normalised() for c in asset_cpes)]
        hits: _Hits = {}
        touched: set[tuple[int, int]] = set()
        for t in targets:
            bucket = self._index.get(t.cpe.key)
            if bucket is not None:
                for p in bucket.candidates(t):
                    self._record(p, t, hits, touched)
            for p in self._wild:
                if _attributes_hit(p.match.criteria, t.cpe) is not None:
                    self._record(p, t, hits, touched)
        findings: list[Finding] = []
        for vi, ci in sorted(touched):
            findings.extend(self._evaluate(vi, ci, hits))
        return findings

    @staticmethod
    def _record(p: _Prepared, t: _Target, hits: _Hits, touched: set[tuple[int, int]]) -> None:
        certainty = p.hit(t)
        if certainty is None:
            return
        hits.setdefault((p.vi, p.ci, p.ni, p.mi), []).append((t.cpe, certainty))
        if p.match.vulnerable:
            touched.add((p.vi, p.ci))

    def _evaluate(self, vi: int, ci: int, hits: _Hits) -> list[Finding]:
        cve = self.cves[vi]
        conf: Configuration = cve.configurations[ci]
        results = [_node_result(vi, ci, ni, node, hits) for ni, node in enumerate(conf.nodes)]
        if conf.operator is Operator.AND:
            ok = all(r[0] for r in results)
            used = results
        else:
            used = [r for r in results if r[0]]
            ok = bool(used)
        if conf.negate:
            return []  # a negated configuration says where the CVE does *not* apply
        if not ok:
            return []
        context = min((r[1] for r in used), default=Certainty.AFFECTED)
        findings: list[Finding] = []
        seen: set[tuple[Cpe, int, int]] = set()
        for ok_node, _, affected in used:
            if not ok_node:
                continue
            for ni, mi, target, certainty in affected:
                if (target, ni, mi) in seen:
                    continue
                seen.add((target, ni, mi))
                findings.append(
                    Finding(
                        cve_id=cve.cve_id,
                        asset_cpe=target,
                        criterion=conf.nodes[ni].cpe_match[mi],
                        certainty=min(certainty, context),
                        configuration=ci,
                    )
                )
        return findings


def _node_result(
    vi: int, ci: int, ni: int, node: Node, hits: _Hits
) -> tuple[bool, Certainty, list[tuple[int, int, Cpe, Certainty]]]:
    """(satisfied, certainty, vulnerable hits) of one node."""
    per_match: list[Certainty | None] = []
    affected: list[tuple[int, int, Cpe, Certainty]] = []
    for mi, m in enumerate(node.cpe_match):
        got = hits.get((vi, ci, ni, mi))
        if not got:
            per_match.append(None)
            continue
        per_match.append(max(c for _, c in got))
        if m.vulnerable and not node.negate:
            affected.extend((ni, mi, t, c) for t, c in got)
    if node.operator is Operator.AND:
        sat = all(c is not None for c in per_match) and bool(per_match)
        cert = min((c for c in per_match if c is not None), default=Certainty.AFFECTED)
    else:
        present = [c for c in per_match if c is not None]
        sat = bool(present)
        cert = max(present, default=Certainty.AFFECTED)
    if node.negate:
        # Satisfied when nothing matches; an uncertain match leaves it uncertain.
        if any(c is Certainty.AFFECTED for c in per_match):
            return (False, Certainty.AFFECTED, [])
        uncertain = any(c is Certainty.POSSIBLE for c in per_match)
        return (True, Certainty.POSSIBLE if uncertain else Certainty.AFFECTED, [])
    return (sat, cert, affected)
