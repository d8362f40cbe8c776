"""The engine agrees with an independent evaluator (`oracle.py`, written from the Sigma
specification) on generated rules and events, one test per modifier family so a failure names
the modifier. Each example: a rule as YAML text → `load_rules` → `compile_rules` → a frame built
by `batch_from_lines` from the events' JSON → `evaluate`; the matched event indexes must equal the
oracle's verdicts. Event values are drawn from the rule's own literals (mixed case, joined with
backslashes, dashes, spaces, …) so that matches are likely."""

from __future__ import annotations

import base64
import ipaddress
import re
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sigma.collection import SigmaCollection
from sigma.rule import SigmaRule

from civicshield.detect import load_rules
from civicshield.detect.engine import compile_rules, evaluate
from civicshield.detect.readers import batch_from_lines, read_jsonl
from tests.unit.detect import oracle

RULE_ID = "0c4f7a6e-5b1d-4c47-9f51-8d1e3f0a9b21"
FIELDS = ("CommandLine", "Image", "User")
# Small pieces that rule values and event values are both made of.
ATOMS = ("a", "B", "cmd", "Ex", "-", "/", "\\", " ", ".", "1", "\u2013", "z")
DASHES = ("-", "/", "\u2013", "\u2014", "\u2015")

Event = dict[str, Any]
Detection = dict[str, Any]

# hypothesis examples are small rule + event sets; keep the settings of the loaded profile
# (tests/conftest.py: "ci" or "dev") and only allow the data-drawing style used here.
common = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- running both sides ----------------------------------------------------------------------


def rule_text(detection: Detection) -> str:
    return yaml.safe_dump(
        {
            "title": "Generated",
            "id": RULE_ID,
            "status": "test",
            "author": "oracle tests",
            "level": "high",
            "logsource": {"product": "windows"},
            "detection": detection,
        },
        allow_unicode=True,
        sort_keys=False,
    )


def engine_matches(text: str, events: list[Event]) -> set[int]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.yml"
        path.write_text(text, encoding="utf-8")
        report = load_rules([path])
    assert not report.problems, report.problems
    ruleset = compile_rules(report.rules)
    assert not ruleset.unsupported, [str(u) for u in ruleset.unsupported]
    lines = [(n, orjson.dumps(e)) for n, e in enumerate(events, start=1)]
    batch = batch_from_lines("generated", lines, ruleset.fields, values=ruleset.needs_values)
    assert not batch.bad_lines
    found = evaluate(ruleset, batch.frame)
    return set(found["event_index"].to_list())


def oracle_rule(text: str) -> SigmaRule:
    rules = SigmaCollection.from_yaml(text).rules
    assert len(rules) == 1
    rule = rules[0]
    assert isinstance(rule, SigmaRule)
    return rule


def check(detection: Detection, events: list[Event]) -> None:
    text = rule_text(detection)
    rule = oracle_rule(text)
    expected = {i for i, e in enumerate(events) if oracle.matches(rule, e)}
    got = engine_matches(text, events)
    if got != expected:
        wrong = sorted(got ^ expected)
        detail = "\n".join(
            f"  event {i}: engine={'hit' if i in got else 'miss'} "
            f"oracle={'hit' if i in expected else 'miss'} {orjson.dumps(events[i]).decode()}"
            for i in wrong
        )
        pytest.fail(f"engine and oracle disagree on rule\n{text}\n{detail}", pytrace=False)


# --- strategies ------------------------------------------------------------------------------

fields = st.sampled_from(FIELDS)
literals = st.lists(st.sampled_from(ATOMS), min_size=1, max_size=3).map("".join)


def flip_case(draw: st.DrawFn, text: str) -> str:
    mask = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.swapcase() if m else c for c, m in zip(text, mask, strict=True))


@st.composite
def texts_from(draw: st.DrawFn, seeds: list[str]) -> str:
    """An event string: a few seeds and atoms joined, maybe with the case flipped."""
    pieces = draw(st.lists(st.sampled_from([*seeds, *ATOMS]), max_size=4))
    text = "".join(pieces)
    return flip_case(draw, text) if draw(st.booleans()) else text


@st.composite
def events_from(
    draw: st.DrawFn,
    seeds: list[str],
    names: tuple[str, ...] = FIELDS,
    scalars: st.SearchStrategy[Any] | None = None,
    min_fields: int = 0,
) -> list[Event]:
    """A few events whose fields (present, absent or null) take values built from `seeds`."""
    values = texts_from(seeds) if scalars is None else st.one_of(texts_from(seeds), scalars)
    one = st.dictionaries(
        st.sampled_from(names),
        st.one_of(values, st.none()) if scalars is None else values,
        min_size=min_fields,
    )
    return draw(st.lists(one, min_size=1, max_size=6))


@st.composite
def wildcard_values(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A plain Sigma string with wildcards and escapes, and the literal seeds to build events
    from (the value with each wildcard replaced by something it should match)."""
    parts: list[tuple[str, str]] = []  # (sigma text, a matching literal)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["lit", "lit", "star", "qmark", "esc"]))
        if kind == "lit":
            lit = draw(literals)
            parts.append((lit, lit))
        elif kind == "star":
            parts.append(("*", draw(st.sampled_from(["", "x", "cmd-a"]))))
        elif kind == "qmark":
            parts.append(("?", draw(st.sampled_from(["q", "\\", "-"]))))
        else:
            escaped, plain = draw(st.sampled_from([("\\*", "*"), ("\\?", "?"), ("\\\\", "\\")]))
            parts.append((escaped, plain))
    sigma = "".join(p[0] for p in parts)
    literal = "".join(p[1] for p in parts)
    return sigma, [literal, *(p[1] for p in parts if p[1])]


@st.composite
def plain_detection(
    draw: st.DrawFn, modifiers: tuple[str, ...] = ("",)
) -> tuple[Detection, list[str]]:
    """One selection of 1-2 fields, each with a value or a list (maybe `|all`), modifier from
    `modifiers` (plain wildcard strings), plus the seeds for events."""
    selection: Detection = {}
    seeds: list[str] = []
    for name in draw(st.lists(fields, min_size=1, max_size=2, unique=True)):
        values = draw(st.lists(wildcard_values(), min_size=1, max_size=3))
        for _, s in values:
            seeds.extend(s)
        modifier = draw(st.sampled_from(modifiers))
        key = name + (f"|{modifier}" if modifier else "")
        if len(values) > 1 and draw(st.booleans()):
            key += "|all"
        selection[key] = [v for v, _ in values] if len(values) > 1 else values[0][0]
    return {"selection": selection, "condition": "selection"}, seeds


def encodings(literal: str) -> list[str]:
    """Texts an encoded-value rule should find: the literal wide/UTF-16 encoded, and base64 of
    it at each byte offset inside other bytes (so base64offset's three variants all occur)."""
    forms = {
        "utf8": literal.encode(),
        "wide": literal.encode("utf-16le"),
        "utf16be": literal.encode("utf-16be"),
        "utf16": b"\xff\xfe" + literal.encode("utf-16le"),
    }
    found: list[str] = []
    for raw in forms.values():
        found.append(raw.decode("latin-1"))
        for prefix in (b"", b"a", b"ab"):
            found.append(base64.b64encode(prefix + raw + b"xy").decode())
            found.append(base64.b64encode(prefix + raw).decode())
    return found


# --- families --------------------------------------------------------------------------------


@common
@given(st.data())
def test_plain_values_wildcards_and_escapes(data: st.DataObject) -> None:
    detection, seeds = data.draw(plain_detection())
    check(detection, data.draw(events_from(seeds)))


@common
@given(st.data())
def test_contains_startswith_endswith_all(data: st.DataObject) -> None:
    detection, seeds = data.draw(plain_detection(("contains", "startswith", "endswith")))
    check(detection, data.draw(events_from(seeds)))


@common
@given(st.data())
def test_cased(data: st.DataObject) -> None:
    mods = ("cased", "contains|cased", "startswith|cased", "endswith|cased")
    detection, seeds = data.draw(plain_detection(mods))
    check(detection, data.draw(events_from(seeds)))


SCALARS = st.one_of(
    st.integers(-3, 5000),
    st.sampled_from([True, False, "", "4688", "true", "TRUE", "0", "-1", "null", "None"]),
)


@common
@given(st.data())
def test_null_numbers_booleans_and_empty(data: st.DataObject) -> None:
    rule_values = st.one_of(
        st.none(),
        st.integers(-1, 4688),
        st.booleans(),
        st.just(""),
        st.lists(st.one_of(st.integers(0, 20), st.booleans(), st.just(""), literals), max_size=3),
    )
    selection = data.draw(st.dictionaries(fields, rule_values, min_size=1, max_size=2))
    numbers = [str(v) for v in selection.values() if isinstance(v, int)]
    events = data.draw(events_from(["4688", "1", *numbers], scalars=SCALARS))
    check({"selection": selection, "condition": "selection"}, events)


@st.composite
def regexes(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A small regular expression from a grammar whose pieces events can contain."""
    pieces: list[tuple[str, str]] = []
    if draw(st.booleans()):
        pieces.append(("^", ""))
    for _ in range(draw(st.integers(1, 4))):
        lit = draw(literals)
        pieces.append(
            draw(
                st.sampled_from(
                    [
                        (re.escape(lit), lit),
                        (".", "x"),
                        (".*", "a\nb"),
                        ("[aB]", "b"),
                        ("\\d+", "12"),
                        (f"(?:{re.escape(lit)}|cmd)", lit),
                        ("\\s", "\n"),
                        (f"{re.escape(lit)}?", ""),
                    ]
                )
            )
        )
    if draw(st.booleans()):
        pieces.append(("$", ""))
    return "".join(p[0] for p in pieces), [p[1] for p in pieces if p[1]]


@common
@given(st.data())
def test_re_with_flags(data: st.DataObject) -> None:
    pattern, seeds = data.draw(regexes())
    flags = data.draw(st.lists(st.sampled_from(["i", "m", "s"]), unique=True, max_size=3))
    name = data.draw(fields)
    key = "|".join([name, "re", *flags])
    events = data.draw(events_from([*seeds, "\n", "A\nb"]))
    if "$" in pattern and "m" not in flags:
        # Regex flavours differ on `$` before a final newline (Python/PCRE match it, the Rust
        # engine Polars uses does not); the specification names no flavour, so avoid the case.
        events = [
            {k: v.rstrip("\n") if isinstance(v, str) else v for k, v in e.items()} for e in events
        ]
    check({"selection": {key: pattern}, "condition": "selection"}, events)


NETWORKS = (
    "10.0.0.0/8",
    "192.168.1.0/24",
    "192.168.0.0/23",
    "172.16.0.0/12",
    "10.1.2.3/32",
    "100.64.0.0/10",
    "fe80::/10",
    "2001:db8::/32",
    "::1/128",
)


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """A well-formed IPv4/IPv6 address text, often inside one of `NETWORKS`."""
    net = ipaddress.ip_network(draw(st.sampled_from(NETWORKS)))
    address = draw(st.one_of(st.ip_addresses(network=net), st.ip_addresses(v=net.version)))
    text = draw(st.sampled_from([address.compressed, address.exploded]))
    if isinstance(address, ipaddress.IPv6Address) and draw(st.booleans()):
        groups = address.exploded.split(":")  # leading zeros dropped group by group
        text = ":".join(g.lstrip("0") or "0" if draw(st.booleans()) else g for g in groups)
        if draw(st.booleans()):  # the last 32 bits as a dotted quad
            low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            text = text.rsplit(":", 2)[0] + f":{low}"
    if draw(st.booleans()):  # what is not an address never matches
        text = draw(
            st.sampled_from([f"{text}:443", f"{text} ", f"{text}.3", f"x{text}", text[:-1]])
        )
    if isinstance(address, ipaddress.IPv6Address) and draw(st.booleans()):
        text += "%eth0"
    return text.upper() if draw(st.booleans()) else text


@common
@given(st.data())
def test_cidr(data: st.DataObject) -> None:
    networks = data.draw(st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=3, unique=True))
    name = data.draw(fields)
    value: Any = networks if len(networks) > 1 else networks[0]
    events = data.draw(
        st.lists(st.dictionaries(st.just(name), addresses(), max_size=1), min_size=1, max_size=6)
    )
    check({"selection": {f"{name}|cidr": value}, "condition": "selection"}, events)


plain_literals = st.lists(
    st.sampled_from(("a", "B", "cmd", "Ex", "-", " ", "1", "z")), min_size=1, max_size=3
).map("".join)


@common
@given(st.data())
def test_base64_and_base64offset(data: st.DataObject) -> None:
    chain = data.draw(
        st.sampled_from(
            [
                "base64",
                "base64|contains",
                "base64offset|contains",
                "wide|base64offset|contains",
                "utf16|base64offset|contains",
                "utf16be|base64offset|contains",
                "wide|base64",
                "utf16|base64",
            ]
        )
    )
    values = data.draw(st.lists(plain_literals, min_size=1, max_size=2))
    name = data.draw(fields)
    seeds = [enc for v in values for enc in encodings(v)]
    value: Any = values if len(values) > 1 else values[0]
    events = data.draw(events_from(seeds))
    check({"selection": {f"{name}|{chain}": value}, "condition": "selection"}, events)


@common
@given(st.data())
def test_utf16_and_wide(data: st.DataObject) -> None:
    chain = data.draw(
        st.sampled_from(["wide", "wide|contains", "utf16be|endswith", "utf16|startswith", "utf16"])
    )
    value = data.draw(plain_literals)
    name = data.draw(fields)
    events = data.draw(events_from(encodings(value)))
    check({"selection": {f"{name}|{chain}": value}, "condition": "selection"}, events)


@common
@given(st.data())
def test_windash(data: st.DataObject) -> None:
    chain = data.draw(st.sampled_from(["windash", "windash|contains", "contains|windash"]))
    flags = data.draw(
        st.lists(
            st.sampled_from(["-a", "/B", " -cmd", "-Ex z", "x-1", "a/b"]), min_size=1, max_size=2
        )
    )
    value = "".join(flags)
    seeds = [value, *(value.replace("-", d).replace("/", d) for d in DASHES)]
    seeds += [value.replace("-", d, 1) for d in DASHES]
    name = data.draw(fields)
    check(
        {"selection": {f"{name}|{chain}": value}, "condition": "selection"},
        data.draw(events_from(seeds)),
    )


@common
@given(st.data())
def test_exists(data: st.DataObject) -> None:
    name, other = data.draw(st.lists(fields, min_size=2, max_size=2, unique=True))
    selection: Detection = {f"{name}|exists": data.draw(st.booleans())}
    if data.draw(st.booleans()):
        selection[f"{other}|contains"] = "a"
    events = data.draw(events_from(["a", ""], scalars=st.sampled_from(["", 0, False])))
    check({"selection": selection, "condition": "selection"}, events)


@common
@given(st.data())
def test_fieldref(data: st.DataObject) -> None:
    name, other = data.draw(st.lists(fields, min_size=2, max_size=2, unique=True))
    chain = data.draw(
        st.sampled_from(
            ["fieldref", "fieldref|startswith", "fieldref|endswith", "fieldref|contains"]
        )
    )
    seeds = data.draw(st.lists(literals, min_size=1, max_size=2))
    events = data.draw(events_from(seeds, names=(name, other), scalars=st.integers(0, 3)))
    check({"selection": {f"{name}|{chain}": other}, "condition": "selection"}, events)


NUMERIC_TEXTS = (
    *("12", "12.5", "-3", "1e2", "0", "abc", "", "5x", "10", "NaN", "inf", "-inf", "+7"),
    *(" 12", "012", "1.", ".5", "1E+2", "-0", "0x1F", "1_000", "Infinity", "1e400"),
)


@common
@given(st.data())
def test_lt_lte_gt_gte(data: st.DataObject) -> None:
    selection: Detection = {}
    for name in data.draw(st.lists(fields, min_size=1, max_size=2, unique=True)):
        op = data.draw(st.sampled_from(["lt", "lte", "gt", "gte"]))
        limit = data.draw(st.one_of(st.integers(-5, 20), st.sampled_from([0.5, 12.5, -2.5])))
        selection[f"{name}|{op}"] = limit
    scalars = st.one_of(
        st.integers(-10, 30),
        st.sampled_from([0.5, 12.5, -2.5, 3.25, 100.0]),
        st.sampled_from(NUMERIC_TEXTS),
    )
    events = data.draw(st.lists(st.dictionaries(fields, scalars), min_size=1, max_size=6))
    check({"selection": selection, "condition": "selection"}, events)


@common
@given(st.data())
def test_keywords(data: st.DataObject) -> None:
    values = data.draw(st.lists(wildcard_values(), min_size=1, max_size=3))
    seeds = [s for _, ss in values for s in ss]
    words: list[Any] = [v for v, _ in values]
    shape = data.draw(st.sampled_from(["list", "all", "cased", "single"]))
    if shape != "cased" and data.draw(st.booleans()):  # pySigma: `cased` takes strings only
        words.append(data.draw(st.integers(0, 50)))
    keywords: Any
    if shape == "list":
        keywords = words
    elif shape == "single":
        keywords = words[0]
    else:
        keywords = {f"|{shape}": words}
    scalars = st.one_of(st.integers(0, 60), st.sampled_from(["a\x1fb", "\x1f", "b\x1e\x1da"]))
    events = data.draw(
        events_from(seeds, names=(*FIELDS, "Other", "EventID"), scalars=scalars, min_fields=1)
    )
    check({"keywords": keywords, "condition": "keywords"}, events)


@st.composite
def conditions(draw: st.DrawFn, names: list[str], depth: int = 0) -> str:
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return draw(
            st.sampled_from(
                [*names, "1 of sel*", "all of sel*", "all of them", "1 of them", "any of filter*"]
            )
        )
    kind = draw(st.sampled_from(["and", "or", "not", "paren"]))
    if kind == "not":
        return "not " + draw(conditions(names, depth + 1))
    left = draw(conditions(names, depth + 1))
    right = draw(conditions(names, depth + 1))
    if kind == "paren":
        return f"({left} or {right})"
    return f"{left} {kind} {right}"


@common
@given(st.data())
def test_conditions(data: st.DataObject) -> None:
    names = ["sel1", "sel2", "filter1"]
    detection: Detection = {}
    seeds: list[str] = []
    for name in names:
        field = data.draw(fields)
        value, value_seeds = data.draw(wildcard_values())
        modifier = data.draw(st.sampled_from(["", "|contains", "|startswith"]))
        detection[name] = {field + modifier: value}
        seeds += value_seeds
    condition = data.draw(conditions(names))
    detection["condition"] = (
        [condition, data.draw(conditions(names))] if data.draw(st.booleans()) else condition
    )
    check(detection, data.draw(events_from(seeds)))


def test_field_first_present_after_line_1000(tmp_path: Path) -> None:
    detection = {"selection": {"LateField|endswith": "\\evil.exe"}, "condition": "selection"}
    text = rule_text(detection)
    rules_file = tmp_path / "late.yml"
    rules_file.write_text(text, encoding="utf-8")
    report = load_rules([rules_file])
    ruleset = compile_rules(report.rules)
    assert not report.problems
    assert not ruleset.unsupported
    events: list[Event] = [{"Image": f"C:\\x{i}.exe"} for i in range(1500)]
    events[1200]["LateField"] = "C:\\Temp\\EVIL.exe"
    events[1300]["LateField"] = "C:\\Temp\\good.exe"
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in events) + b"\n")
    lines: list[int] = []
    for batch in read_jsonl(path, ruleset.fields, batch_size=2000):
        found = evaluate(ruleset, batch.frame)
        lines += batch.frame["_line"].gather(found["event_index"]).to_list()
    assert lines == [1201]
    rule = oracle_rule(text)
    assert [i + 1 for i, e in enumerate(events) if oracle.matches(rule, e)] == [1201]


# --- former disagreements --------------------------------------------------------------------
# Minimal examples where the engine once differed from the oracle (now in the families above).


def test_fieldref_contains() -> None:
    detection = {"selection": {"A|fieldref|contains": "B"}, "condition": "selection"}
    check(detection, [{"A": "ab", "B": "b"}, {"A": "xay", "B": "A"}, {"A": "ab", "B": "c"}])


def test_cidr_exploded_ipv6() -> None:
    detection = {"selection": {"A|cidr": "2001:db8::/32"}, "condition": "selection"}
    check(detection, [{"A": "2001:0db8:0000:0000:0000:0000:0000:0001"}, {"A": "2001:db8::1"}])
    loopback = {"selection": {"A|cidr": "::1/128"}, "condition": "selection"}
    check(loopback, [{"A": "0:0:0:0:0:0:0:1"}, {"A": "::0.0.0.1"}, {"A": "::2"}])


def test_cidr_non_address_text() -> None:
    detection = {"selection": {"A|cidr": "10.0.0.0/8"}, "condition": "selection"}
    events = [{"A": t} for t in ("10.0.0.1:443", "10.x", "10.0.0.1 ", "10.1.2.3.4", "10.0.0.1")]
    check(detection, events)


def test_compare_nan_is_not_a_number() -> None:
    detection = {"selection": {"A|gt": 5}, "condition": "selection"}
    check(detection, [{"A": "NaN"}, {"A": "inf"}, {"A": "12"}])


def test_keyword_value_with_unit_separator() -> None:
    check({"keywords": ["a*b"], "condition": "keywords"}, [{"X": "a\x1fb"}, {"X": "ab"}])
    events = [{"X": "a\x1fb"}, {"X": "a", "Y": "b"}, {"X": "a\x1e\x1db"}, {"X": "\x1e\x1f"}]
    for word in ("a\x1fb", "a?b", "\x1db", "\x1e", "\x1f", "?\x1d?"):
        check({"keywords": [word], "condition": "keywords"}, events)
