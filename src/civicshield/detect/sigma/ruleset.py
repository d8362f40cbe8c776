"""Which rules are enabled (`RuleSelection`, `select`) and where rules come from
(`rule_roots`).

By default a selection leaves out rules under `deprecated/` and `unsupported/` folders and
rules whose status is `deprecated` or `unsupported`. Folder globs match the rule's path
relative to its root (`windows/process_creation/*`); a glob naming a folder (`windows`)
matches everything below it. Tag globs are case-insensitive (`attack.t1059*`).

SigmaHQ rules are read from the pack `civicshield rules update` installed
(`<data_dir>/rules/sigmahq`), else from `CIVICSHIELD_FEEDS_PATH/sigma/rules`; `--rules DIR` (one
or more) replaces both, so the city's own rules can be loaded beside or instead of SigmaHQ's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase, translate
from functools import cache
from pathlib import Path

from civicshield.core import ConfigError, Settings, Severity
from civicshield.detect.sigma.model import RuleInfo

__all__ = [
    "DEFAULT_EXCLUDED_FOLDERS",
    "DEFAULT_EXCLUDED_STATUSES",
    "RuleSelection",
    "city_rules_dir",
    "folder_matches",
    "installed_rules_dir",
    "missing_sigmahq",
    "rule_pack_dir",
    "rule_roots",
    "select",
    "sigmahq_rules_dir",
]

DEFAULT_EXCLUDED_FOLDERS = ("deprecated", "unsupported", "*/deprecated", "*/unsupported")
DEFAULT_EXCLUDED_STATUSES = frozenset({"deprecated", "unsupported"})


@dataclass(frozen=True)
class RuleSelection:
    """A filter over loaded rules. Empty include tuples mean "no restriction"."""

    folders: tuple[str, ...] = ()
    exclude_folders: tuple[str, ...] = DEFAULT_EXCLUDED_FOLDERS
    min_level: Severity | None = None
    statuses: frozenset[str] = frozenset()
    exclude_statuses: frozenset[str] = DEFAULT_EXCLUDED_STATUSES
    tags: tuple[str, ...] = ()

    @classmethod
    def everything(cls) -> RuleSelection:
        """Every loaded rule, deprecated and unsupported ones included."""
        return cls(exclude_folders=(), exclude_statuses=frozenset())

    def accepts(self, rule: RuleInfo) -> bool:
        if self.folders and not _folders_pattern(self.folders).match(rule.path):
            return False
        if self.exclude_folders and _folders_pattern(self.exclude_folders).match(rule.path):
            return False
        if self.min_level is not None and (
            rule.level is None or rule.level.rank < self.min_level.rank
        ):
            return False
        status = rule.status or ""
        if self.statuses and status not in self.statuses:
            return False
        if status in self.exclude_statuses - self.statuses:  # asking for a status wins
            return False
        if self.tags:
            tags = [t.lower() for t in rule.tags]
            wanted = [g.lower() for g in self.tags]
            if not any(fnmatchcase(t, g) for t in tags for g in wanted):
                return False
        return True


def folder_matches(path: str, glob: str) -> bool:
    """Whether a rule at relative `path` lies in (or is) what `glob` names."""
    glob = glob.strip().strip("/")
    return fnmatchcase(path, glob) or fnmatchcase(path, f"{glob}/*")


@cache
def _folders_pattern(globs: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for `folder_matches` with any of `globs` (a warm start checks every rule)."""
    parts = [g.strip().strip("/") for g in globs]
    return re.compile("|".join(f"(?:{translate(p)})|(?:{translate(p + '/*')})" for p in parts))


def select(rules: Sequence[RuleInfo], selection: RuleSelection | None = None) -> list[RuleInfo]:
    """The rules `selection` enables (the default selection when None), in their order."""
    chosen = selection or RuleSelection()
    return [r for r in rules if chosen.accepts(r)]


def sigmahq_rules_dir(settings: Settings) -> Path | None:
    """Where the SigmaHQ rules tree should be (`feeds_path/sigma/rules`); None when the feeds
    path is not configured."""
    if settings.feeds_path is None:
        return None
    return settings.feeds_path / "sigma" / "rules"


def installed_rules_dir(settings: Settings) -> Path:
    """Where `civicshield rules update` installs the SigmaHQ pack (`<data_dir>/rules/sigmahq`)."""
    return settings.data_dir / "rules" / "sigmahq"


def city_rules_dir(settings: Settings) -> Path:
    """Where the city's own Sigma rules live (`<data_dir>/rules/city`), loaded beside SigmaHQ's."""
    return settings.data_dir / "rules" / "city"


PACK_DIR = Path(__file__).resolve().parent.parent / "rulepack"


def rule_pack_dir() -> Path:
    """CivicShield's own rules, shipped with the package (`detect/rulepack/`)."""
    return PACK_DIR


def missing_sigmahq(settings: Settings) -> str | None:
    """Why no SigmaHQ rules are loaded (None when they are): every place looked at."""
    installed = installed_rules_dir(settings)
    where = sigmahq_rules_dir(settings)
    if installed.is_dir() or (where is not None and where.is_dir()):
        return None
    feeds = (
        f"under {where}"
        if where is not None
        else "in the feeds path (CIVICSHIELD_FEEDS_PATH is not set and ../shared/data does "
        "not exist)"
    )
    return (
        f"no SigmaHQ rules found under {installed} (run `civicshield rules update`) nor "
        f"{feeds}; set CIVICSHIELD_FEEDS_PATH or pass --rules (the city's own rules go in "
        f"{city_rules_dir(settings)})"
    )


def rule_roots(settings: Settings, rules: Sequence[Path] | None = None) -> list[Path]:
    """The rules roots to load: `rules` when given (`--rules`), else the pack installed by
    `rules update` or, without it, the SigmaHQ tree under the feeds path, then CivicShield's own
    rules (`rule_pack_dir`, unless `CIVICSHIELD_RULE_PACK_ENABLED=false`) and the city's
    (`<data_dir>/rules/city`) when that folder exists. Without SigmaHQ rules the own rules still
    load (`missing_sigmahq` says what is missing); with no rules at all, `ConfigError` says so."""
    if rules:
        missing = [p for p in rules if not p.exists()]
        if missing:
            raise ConfigError(f"rules path does not exist: {', '.join(map(str, missing))}")
        return list(rules)
    city = city_rules_dir(settings)
    pack = [PACK_DIR] if settings.rule_pack_enabled else []
    own = [*pack, *([city] if city.is_dir() else [])]
    installed = installed_rules_dir(settings)
    if installed.is_dir():
        return [installed, *own]
    where = sigmahq_rules_dir(settings)
    if where is not None and where.is_dir():
        return [where, *own]
    if own:
        return own
    raise ConfigError(missing_sigmahq(settings) or "no rules configured")
