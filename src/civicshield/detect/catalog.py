"""The rule catalogue: every rule the city runs (the default rule roots, `rule_roots`), with its
metadata and whether the engine can run it, read from the compiled rule cache.

    catalog = load_catalog(settings)     # None until the cache for these rules exists
    catalog = build_catalog(settings)    # parse + compile + save the cache (slow: ~10 s)
    rules = filter_rules(catalog.rules, CatalogFilter(q="powershell", min_level=Severity.HIGH))

The catalogue compiles with the `combined` mapping (every log source the engine routes), so it
shares its cache file with `civicshield detect --mapping combined`. Reading it parses no YAML:
the cache key comes from the rule files' stat index, and a loaded catalogue is kept per process
under its key, so a page view after the first costs a directory walk.

Correlation rules are compiled at run time from their base rules' matches (the compiled cache
lists them as unsupported), so the catalogue counts them as runnable without checking their
base rules; filter rules are not run by the engine.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from civicshield.core import Settings, Severity
from civicshield.detect import cache
from civicshield.detect.sigma.files import iter_rule_files
from civicshield.detect.sigma.model import RuleInfo, RuleKind, RuleProblem
from civicshield.detect.sigma.ruleset import folder_matches, rule_roots

__all__ = [
    "CATALOG_MAPPING",
    "MAX_SOURCE_BYTES",
    "Catalog",
    "CatalogFilter",
    "CatalogRule",
    "build_catalog",
    "catalog_key",
    "filter_rules",
    "level_counts",
    "load_catalog",
    "read_source",
]

CATALOG_MAPPING = "combined"
MAX_SOURCE_BYTES = 512 * 1024  # a Sigma rule is a few KiB; refuse to show anything huge
_MEMO: dict[str, Catalog] = {}
_Check = Callable[["CatalogRule"], bool]
_MEMO_LOCK = threading.Lock()


@dataclass(frozen=True)
class CatalogRule:
    """One rule of the catalogue: its `RuleInfo` fields, and whether the engine runs it
    (`reason` says why not). `author` must be shown with the rule (Detection Rule License)."""

    id: str
    title: str
    level: Severity | None
    status: str | None
    author: str | None
    tags: tuple[str, ...]
    techniques: tuple[str, ...]
    tactics: tuple[str, ...]
    product: str | None
    category: str | None
    service: str | None
    path: str
    source: Path
    kind: RuleKind
    deprecated: bool
    runnable: bool
    reason: str | None = None

    @classmethod
    def of(cls, info: RuleInfo, reason: str | None = None) -> CatalogRule:
        runnable = reason is None or info.kind == "correlation"
        return cls(
            id=info.id,
            title=info.title,
            level=info.level,
            status=info.status,
            author=info.author,
            tags=tuple(info.tags),
            techniques=tuple(info.techniques),
            tactics=tuple(info.tactics),
            product=info.product,
            category=info.category,
            service=info.service,
            path=info.path,
            source=info.source,
            kind=info.kind,
            deprecated=info.deprecated,
            runnable=runnable,
            reason=None if runnable else reason,
        )


@dataclass(frozen=True)
class Catalog:
    """The rules of one rule set (sorted by path), the files that did not load, and the cache
    key they were read under."""

    key: str
    roots: tuple[Path, ...]
    rules: tuple[CatalogRule, ...]
    problems: tuple[RuleProblem, ...] = ()
    cached: bool = True  # False: built, but the compiled rule cache could not be written
    _by_id: dict[str, CatalogRule] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for rule in self.rules:  # the first rule wins if two files share an id
            self._by_id.setdefault(rule.id, rule)

    def get(self, rule_id: str) -> CatalogRule | None:
        return self._by_id.get(rule_id)

    @property
    def runnable(self) -> int:
        return sum(1 for r in self.rules if r.runnable)


@dataclass(frozen=True)
class CatalogFilter:
    """Filters over catalogue rules, combined with AND; empty ones do not restrict.

    `q` is a case-insensitive substring of the title, id or path; `min_level` keeps rules at or
    above that level; `technique` matches a technique or its sub-techniques (`T1059` matches
    `T1059.001`); `folder` is a path prefix or glob (`windows/process_creation`)."""

    q: str = ""
    min_level: Severity | None = None
    status: str | None = None
    runnable: bool | None = None
    tactic: str | None = None
    technique: str | None = None
    folder: str | None = None
    kind: str | None = None

    def accepts(self, rule: CatalogRule) -> bool:
        return all(check(rule) for check in self._checks())

    def _checks(self) -> Iterable[_Check]:
        if self.q:
            needle = self.q.casefold()
            yield lambda r: any(needle in v.casefold() for v in (r.title, r.id, r.path))
        if self.min_level is not None:
            rank = self.min_level.rank
            yield lambda r: r.level is not None and r.level.rank >= rank
        if self.status:
            yield lambda r: (r.status or "") == self.status
        if self.runnable is not None:
            yield lambda r: r.runnable is self.runnable
        if self.tactic:
            tactic = self.tactic.strip().lower().replace("_", "-")
            yield lambda r: tactic in r.tactics
        if self.technique:
            technique = self.technique.strip().upper()
            yield lambda r: any(
                t == technique or t.startswith(f"{technique}.") for t in r.techniques
            )
        if self.folder and self.folder.strip("/ "):
            folder = self.folder.strip()
            yield lambda r: folder_matches(r.path, folder)
        if self.kind:
            yield lambda r: r.kind == self.kind


def filter_rules(rules: Sequence[CatalogRule], chosen: CatalogFilter) -> list[CatalogRule]:
    """The rules `chosen` accepts, in their order."""
    checks = list(chosen._checks())
    return [r for r in rules if all(check(r) for check in checks)]


def level_counts(rules: Iterable[CatalogRule]) -> dict[str, int]:
    """Rules per level, every level present (highest first), `none` for rules without one."""
    found = Counter(r.level.value if r.level else "none" for r in rules)
    return {s.value: found[s.value] for s in reversed(Severity)} | {"none": found["none"]}


# -- loading ------------------------------------------------------------------------------------
def _roots_and_files(settings: Settings) -> tuple[list[Path], list[Path]]:
    roots = [r.resolve() for r in rule_roots(settings)]
    return roots, [f for root in roots for f in iter_rule_files(root)]


def _key(settings: Settings, roots: list[Path], files: list[Path]) -> str:
    from civicshield.detect.engine.model import ENGINE_VERSION, MAPPING_VERSION

    return cache.ruleset_key(
        files,
        engine_version=ENGINE_VERSION,
        mapping_version=f"{MAPPING_VERSION}:{CATALOG_MAPPING}",
        roots=roots,
        index=cache.index_path(settings.data_dir),
    )


def catalog_key(settings: Settings) -> str:
    """The cache key of the current rule set (cheap once the stat index knows the files).
    Raises `ConfigError` when no rules are configured (see `rule_roots`)."""
    roots, files = _roots_and_files(settings)
    return _key(settings, roots, files)


def _remember(catalog: Catalog) -> Catalog:
    with _MEMO_LOCK:
        _MEMO.clear()  # one rule set per process: the previous one is stale
        _MEMO[catalog.key] = catalog
    return catalog


def _catalog(
    key: str,
    roots: Sequence[Path],
    compiled: Iterable[RuleInfo],
    unsupported: Iterable[tuple[RuleInfo, str]],
    problems: Sequence[RuleProblem],
    *,
    cached: bool = True,
) -> Catalog:
    rules = [CatalogRule.of(info) for info in compiled]
    rules += [CatalogRule.of(info, reason) for info, reason in unsupported]
    rules.sort(key=lambda r: (r.path, r.id))
    return Catalog(
        key=key, roots=tuple(roots), rules=tuple(rules), problems=tuple(problems), cached=cached
    )


def load_catalog(settings: Settings) -> Catalog | None:
    """The catalogue of the default rule roots from the compiled rule cache; None when the
    cache for this exact rule set does not exist yet (`build_catalog` makes it). Raises
    `ConfigError` when no rules are configured."""
    roots, files = _roots_and_files(settings)
    key = _key(settings, roots, files)
    with _MEMO_LOCK:
        known = _MEMO.get(key)
    if known is not None:
        return known
    entry = cache.load_entry(cache.cache_path(settings.data_dir, key))
    if entry is None:
        return None
    ruleset = entry.ruleset
    return _remember(
        _catalog(
            key,
            roots,
            (c.rule for c in ruleset.rules),
            ((u.rule, u.reason) for u in ruleset.unsupported),
            entry.problems,
        )
    )


def build_catalog(settings: Settings) -> Catalog:
    """Parse and compile every rule of the default roots with the `combined` mapping and save
    the compiled rule cache (slow: pySigma parses every file). A rule set that cannot be
    cached is still returned (and kept for this process)."""
    from civicshield.detect.engine import compile_rules
    from civicshield.detect.engine.mappings import mapping_named
    from civicshield.detect.sigma.loader import load_rules

    roots, files = _roots_and_files(settings)
    key = _key(settings, roots, files)
    report = load_rules(roots)
    ruleset = compile_rules(report.rules, mapping_named(CATALOG_MAPPING))
    try:
        cache.save(ruleset, cache.cache_path(settings.data_dir, key), problems=report.problems)
        cached = True
    except (cache.CacheError, OSError):  # the catalogue is still right, only not saved
        cached = False
    return _remember(
        _catalog(
            key,
            roots,
            (c.rule for c in ruleset.rules),
            ((u.rule, u.reason) for u in ruleset.unsupported),
            report.problems,
            cached=cached,
        )
    )


def read_source(catalog: Catalog, rule: CatalogRule) -> str | None:
    """The rule file's text (UTF-8, undecodable bytes replaced); None when the file is gone,
    unreadable, too large, or outside the catalogue's roots."""
    try:
        path = rule.source.resolve()
        if not any(path == root or path.is_relative_to(root) for root in catalog.roots):
            return None
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return None
