"""The rule catalogue: built from rule files, read back from the compiled rule cache,
filtered, and each rule's file text."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.core import ConfigError, Settings, Severity
from civicshield.detect import catalog
from civicshield.detect.catalog import CatalogFilter, filter_rules, level_counts
from tests.catalog_rules import FILTER, LOW, PS, write_base_rules
from tests.conftest import make_settings

from .rulefiles import rule_yaml, write_rule

CITY = "44444444-4444-4444-8444-444444444444"


@pytest.fixture(autouse=True)
def _fresh_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "_MEMO", {})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """SigmaHQ's pack (as `rules update` installs it) and the city's own rules."""
    data = tmp_path / "var"
    pack = data / "rules" / "sigmahq"
    write_base_rules(pack)
    write_rule(pack, "broken/bad.yml", "title: no id\n")
    write_rule(
        data / "rules" / "city",
        "water/scada.yml",
        rule_yaml(CITY, title="SCADA <script>alert(1)</script>", level="critical"),
    )
    return make_settings(data, feeds_path=None)


def test_nothing_until_built_then_read_from_the_cache(settings: Settings) -> None:
    assert catalog.load_catalog(settings) is None
    built = catalog.build_catalog(settings)
    assert built.cached
    assert [r.path for r in built.rules] == [  # sorted by path, both roots
        "water/scada.yml",
        "windows/filters/admins.yml",
        "windows/process_creation/low.yml",
        "windows/process_creation/ps.yml",
    ]
    assert built.runnable == 3 and len(built.problems) >= 1
    assert built.problems[0].file == "broken/bad.yml"
    unfiltered = built.get(FILTER)
    assert unfiltered is not None and not unfiltered.runnable
    assert unfiltered.reason == "filter rules are not supported yet"
    ps = built.get(PS)
    assert ps is not None and ps.runnable and ps.reason is None
    assert ps.author == "CivicShield tests" and ps.techniques == ("T1059.001",)
    assert ps.tactics == ("execution",) and ps.level is Severity.HIGH
    assert ps.product == "windows" and ps.category == "process_creation"

    catalog._MEMO.clear()  # another process: reads the cache file, parses no YAML
    loaded = catalog.load_catalog(settings)
    assert loaded is not None and loaded is not built
    assert loaded.rules == built.rules and loaded.key == built.key
    assert [str(p) for p in loaded.problems] == [str(p) for p in built.problems]
    assert catalog.load_catalog(settings) is loaded  # kept per process under its key


def test_an_edited_rule_makes_the_catalogue_stale(settings: Settings) -> None:
    catalog.build_catalog(settings)
    path = settings.data_dir / "rules" / "sigmahq" / "windows/process_creation/low.yml"
    path.write_text(rule_yaml(LOW, title="Calc started again", level="low"), encoding="utf-8")
    assert catalog.load_catalog(settings) is None
    rebuilt = catalog.build_catalog(settings)
    low = rebuilt.get(LOW)
    assert low is not None and low.title == "Calc started again"


def test_no_rules_configured(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no SigmaHQ rules found"):
        catalog.load_catalog(make_settings(tmp_path / "var", feeds_path=None))


def test_filters(settings: Settings) -> None:
    rules = catalog.build_catalog(settings).rules

    def ids(**options: object) -> list[str]:
        return [r.id for r in filter_rules(rules, CatalogFilter(**options))]  # type: ignore[arg-type]

    assert ids() == [CITY, FILTER, LOW, PS]
    assert ids(q="powershell") == [PS]
    assert ids(q="SCADA") == [CITY] and ids(q=LOW[:8]) == [LOW] and ids(q="filters/") == [FILTER]
    assert ids(min_level=Severity.HIGH) == [CITY, PS]
    assert ids(min_level=Severity.LOW) == [CITY, LOW, PS]  # the filter rule has no level
    assert ids(status="stable") == [LOW]
    assert ids(runnable=False) == [FILTER]
    assert ids(runnable=True) == [CITY, LOW, PS]
    assert ids(tactic="discovery") == [LOW]
    assert ids(technique="T1059") == [CITY, PS]  # sub-techniques of T1059
    assert ids(technique="t1059.001") == [CITY, PS]
    assert ids(technique="T105") == []  # not a prefix of the number
    assert ids(folder="windows/process_creation") == [LOW, PS]
    assert ids(folder="water") == [CITY]
    assert ids(kind="filter") == [FILTER]
    assert ids(q="calc", min_level=Severity.HIGH) == []


def test_level_counts(settings: Settings) -> None:
    counts = level_counts(catalog.build_catalog(settings).rules)
    assert counts == {
        "critical": 1,
        "high": 1,
        "medium": 0,
        "low": 1,
        "informational": 0,
        "none": 1,
    }
    assert list(counts)[:2] == ["critical", "high"]


def test_source_text_and_a_gone_file(settings: Settings) -> None:
    built = catalog.build_catalog(settings)
    city = built.get(CITY)
    assert city is not None
    text = catalog.read_source(built, city)
    assert text is not None and "SCADA <script>" in text and f"id: {CITY}" in text
    city.source.unlink()
    assert catalog.read_source(built, city) is None


def test_source_outside_the_roots_is_not_read(settings: Settings, tmp_path: Path) -> None:
    from dataclasses import replace

    built = catalog.build_catalog(settings)
    ps = built.get(PS)
    assert ps is not None
    secret = tmp_path / "secret.yml"
    secret.write_text("password: hunter2\n", encoding="utf-8")
    assert catalog.read_source(built, replace(ps, source=secret)) is None
    escape = ps.source.parent / ".." / ".." / ".." / ".." / ".." / "secret.yml"
    assert catalog.read_source(built, replace(ps, source=escape)) is None
