"""The compiled rule cache: round trip (identical matches for every expression kind the
compiler emits), the key, corrupt and foreign files."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sigma.collection import SigmaCollection

from civicshield.detect import cache
from civicshield.detect.engine import CompiledRuleSet, compile_rules, evaluate
from civicshield.detect.engine.evaluate import _plan
from civicshield.detect.engine.model import FlatAtoms
from civicshield.detect.sigma.loader import _info
from civicshield.detect.sigma.model import RuleProblem

from .test_engine import frame, proc

NET = "category: network_connection\n    product: windows"

# (detection, logsource or None): one rule per expression kind the compiler emits.
DETECTIONS: list[tuple[str, str | None]] = [
    ("    sel:\n        Image: 'C:\\Windows\\cmd.exe'\n    condition: sel", None),  # equality
    ("    sel:\n        Image: 'C:*p?wershell.exe'\n    condition: sel", None),  # wildcard
    ("    sel:\n        Image|startswith: 'C:\\Users'\n    condition: sel", None),
    ("    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel", None),
    ("    sel:\n        Image|cased: 'C:\\Windows\\cmd.exe'\n    condition: sel", None),
    (
        "    sel:\n        Image:\n            - 'C:\\a.exe'\n            - 'C:\\b.exe'\n"
        "    condition: sel",
        None,
    ),  # is_in
    (
        "    sel:\n        CommandLine|contains:\n"
        "            - ' -enc '\n            - 'mimikatz'\n"
        "    condition: sel",
        None,
    ),  # contains_any
    ("    sel:\n        CommandLine|re: 'foo\\d+bar'\n    condition: sel", None),  # regex
    ("    sel:\n        CommandLine|re|i: 'FOO\\d+BAR'\n    condition: sel", None),
    ("    sel:\n        DestinationIp|cidr: '10.0.0.0/8'\n    condition: sel", NET),  # cidr
    ("    sel:\n        DestinationPort|gte: 1000\n    condition: sel", NET),  # numeric
    ("    sel:\n        DestinationPort: 445\n    condition: sel", NET),
    ("    sel:\n        User|exists: true\n    condition: sel", None),  # exists
    ("    sel:\n        User|exists: false\n    condition: sel", None),
    ("    sel:\n        ParentImage: null\n    condition: sel", None),  # null
    (
        "    keywords:\n        - 'mimikatz'\n        - 'sekur*logon'\n    condition: keywords",
        "product: windows",
    ),  # keywords
    (
        "    sel:\n        Image|endswith: '.exe'\n    filter:\n        User: 'SYSTEM'\n"
        "    other:\n        CommandLine|contains: 'foo'\n"
        "    condition: (sel and not filter) or other",
        None,
    ),  # not / and / or
    ("    sel:\n        Image|fieldref: ParentImage\n    condition: sel", None),  # fieldref
]

EVENTS: list[dict[str, object]] = [
    proc(Image="C:\\Windows\\cmd.exe", User="SYSTEM", CommandLine="cmd /c foo12bar"),
    proc(Image="c:\\windows\\cmd.exe", ParentImage="c:\\windows\\cmd.exe", CommandLine="x"),
    proc(Image="C:\\Windows\\powershell.exe", User="alice", CommandLine="ps -enc AAA"),
    proc(Image="C:\\Users\\bob\\a.exe", CommandLine="FOO7BAR mimikatz sekurlsa::logonpasswords"),
    proc(Image="C:\\b.exe", ParentImage="C:\\x.exe"),
    {
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": 3,
        "DestinationIp": "10.1.2.3",
        "DestinationPort": 445,
    },
    {
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "EventID": 3,
        "DestinationIp": "192.168.1.1",
        "DestinationPort": 8080,
    },
    {"Channel": "Security", "EventID": 4688, "Note": "mimikatz was here"},
]


def make_rule(index: int, detection: str, logsource: str | None):
    source = logsource or "category: process_creation\n    product: windows"
    rule_id = f"aaaaaaaa-1111-4111-8111-{index:012d}"
    text = (
        f"title: T{index}\nid: {rule_id}\nstatus: test\nauthor: tests\nlevel: high\n"
        f"tags:\n    - attack.execution\n"
        f"logsource:\n    {source}\ndetection:\n{detection}"
    )
    rule = SigmaCollection.from_yaml(text).rules[0]
    return _info(rule, Path(f"/r/t{index}.yml"), f"win/t{index}.yml")


@pytest.fixture
def ruleset() -> CompiledRuleSet:
    rules = [make_rule(i, d, ls) for i, (d, ls) in enumerate(DETECTIONS)]
    rules.append(make_rule(99, "    sel:\n        a: b\n    condition: sel", "product: linux"))
    compiled = compile_rules(rules)
    assert len(compiled.rules) == len(DETECTIONS), compiled.unsupported
    assert len(compiled.unsupported) == 1
    return compiled


def test_round_trip_gives_identical_matches(ruleset: CompiledRuleSet, tmp_path: Path) -> None:
    path = tmp_path / "c.bin"
    problem = RuleProblem("bad.yml", 3, "broken", None)
    cache.save(ruleset, path, problems=[problem])
    entry = cache.load_entry(path)
    assert entry is not None
    loaded = entry.ruleset
    assert entry.problems == [problem]
    assert [c.rule for c in loaded.rules] == [c.rule for c in ruleset.rules]
    assert [(c.route, c.fields) for c in loaded.rules] == [
        (c.route, c.fields) for c in ruleset.rules
    ]
    assert [(u.rule, u.reason) for u in loaded.unsupported] == [
        (u.rule, u.reason) for u in ruleset.unsupported
    ]
    events = frame(EVENTS)
    before = evaluate(ruleset, events)
    after = evaluate(loaded, events)
    assert before.equals(after)
    # every rule matches some event but not all of them: the comparison is meaningful
    counts = before.group_by("rule_id").len()
    assert counts.height == len(DETECTIONS), {c.rule.id for c in ruleset.rules} - set(
        counts["rule_id"]
    )
    assert counts["len"].max() < len(EVENTS)
    for original, back in zip(ruleset.rules, loaded.rules, strict=True):
        assert back.expr.meta.eq(original.expr)


def test_load_returns_the_ruleset(ruleset: CompiledRuleSet, tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.bin"
    cache.save(ruleset, path)
    loaded = cache.load(path)
    assert loaded is not None and len(loaded.rules) == len(ruleset.rules)
    assert not list(path.parent.glob("*.tmp"))  # the temporary file was renamed


def _plan_parts(ruleset: CompiledRuleSet) -> tuple[object, ...]:
    plan = _plan(ruleset)
    columns = [(c, texts, t.sort(t.columns).rows()) for c, texts, t in plan.columns]
    keywords = [(r, texts, t.sort(t.columns).rows()) for r, texts, t in plan.keywords]
    return columns, plan.clauses.sort(plan.clauses.columns).rows(), plan.always, keywords


def test_cached_rules_keep_their_atoms_and_plan(ruleset: CompiledRuleSet, tmp_path: Path) -> None:
    path = tmp_path / "c.bin"
    cache.save(ruleset, path)
    loaded = cache.load(path)
    assert loaded is not None
    assert any(c.atoms is None for c in ruleset.rules)  # both kinds are covered
    assert any(c.atoms is not None for c in ruleset.rules)
    for original, back in zip(ruleset.rules, loaded.rules, strict=True):
        # rows of the shared flat lists, not yet clauses: the plan reads the rows
        assert (back.flat_atoms is not None) == (original.atoms is not None)
        assert back.has_atoms == original.has_atoms
    # the plan built from list slices equals the one built from clauses, for a subset too
    assert _plan_parts(loaded) == _plan_parts(ruleset)
    odd = CompiledRuleSet(rules=loaded.rules[1::2])
    assert _plan_parts(odd) == _plan_parts(CompiledRuleSet(rules=ruleset.rules[1::2]))
    assert [c.atoms for c in loaded.rules] == [c.atoms for c in ruleset.rules]


def test_flat_atoms_rebuild_every_clause() -> None:
    flat = FlatAtoms([0, 0, 2], ["a", "b", "a"], ["x", "y", "z"])
    # clause 1 has no atom: it stays, empty, so the rule keeps its three clauses
    assert flat.clauses_of(0, 3, 3) == (
        frozenset({("a", "x"), ("b", "y")}),
        frozenset(),
        frozenset({("a", "z")}),
    )
    with pytest.raises(ValueError, match="different lengths"):
        FlatAtoms([0], ["a"], [])


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-10] + b"0123456789",  # payload changed (checksum)
        lambda data: b"something else entirely",  # not a cache file
        lambda data: b"",
    ],
)
def test_corrupt_file_is_ignored(ruleset: CompiledRuleSet, tmp_path: Path, damage) -> None:
    path = tmp_path / "c.bin"
    cache.save(ruleset, path)
    path.write_bytes(damage(path.read_bytes()))
    assert cache.load(path) is None
    assert cache.load_entry(path) is None


def test_missing_file_and_other_format_are_ignored(
    ruleset: CompiledRuleSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache.load(tmp_path / "absent.bin") is None
    path = tmp_path / "c.bin"
    cache.save(ruleset, path)
    monkeypatch.setattr(cache, "CACHE_FORMAT", "999")
    assert cache.load(path) is None


def test_unserialisable_expression_is_not_cached(tmp_path: Path) -> None:
    rule = make_rule(1, DETECTIONS[0][0], None)
    compiled = compile_rules([rule])
    weird = compiled.rules[0]

    def odd(value: str) -> bool:
        return hash(value) % 2 == 1

    expr = pl.col("Image").map_elements(odd, return_dtype=pl.Boolean)
    broken = CompiledRuleSet(rules=[type(weird)(weird.rule, expr, weird.route, weird.fields)])
    path = tmp_path / "c.bin"
    try:
        cache.save(broken, path)
    except cache.CacheError:
        assert not path.exists()
    else:  # Polars serialised the Python function: it must then read back identical
        loaded = cache.load(path)
        assert loaded is not None
        assert loaded.rules[0].expr.meta.eq(expr)


def key(files: list[Path], roots: list[Path], engine: str = "1", mapping: str = "1") -> str:
    return cache.ruleset_key(files, engine_version=engine, mapping_version=mapping, roots=roots)


def test_key_changes_with_files_and_versions(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    root.mkdir()
    a, b = root / "a.yml", root / "b.yml"
    a.write_text("title: a\n", encoding="utf-8")
    b.write_text("title: b\n", encoding="utf-8")
    base = key([a, b], [root])
    assert len(base) == 64
    assert key([b, a], [root]) == base  # order of the list does not matter
    assert key([a, b], [root], engine="2") != base
    assert key([a, b], [root], mapping="2") != base
    assert key([a], [root]) != base  # a file removed
    b.write_text("title: b2\n", encoding="utf-8")
    assert key([a, b], [root]) != base  # a file changed
    b.write_text("title: b\n", encoding="utf-8")
    assert key([a, b], [root]) == base
    renamed = root / "c.yml"
    b.rename(renamed)
    assert key([a, renamed], [root]) != base  # a file renamed


def test_cache_path(tmp_path: Path) -> None:
    assert cache.cache_path(tmp_path, "abc") == tmp_path / "cache" / "compiled" / "abc.bin"
