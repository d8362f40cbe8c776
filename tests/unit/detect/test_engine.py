"""The Polars engine on small constructed rules and frames (modifiers, wildcards, conditions,
log-source routing) and the JSONL reader (explicit schema, bad lines)."""

from __future__ import annotations

import base64
import gzip
import io
import ipaddress
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sigma.collection import SigmaCollection

from civicshield.detect.engine import (
    CompiledRuleSet,
    Route,
    Unsupported,
    WindowsNativeMapping,
    compile_rule,
    compile_rules,
    evaluate,
)
from civicshield.detect.engine.cidr import ipv6_atoms, network_pattern
from civicshield.detect.engine.values import values_text
from civicshield.detect.readers import batch_from_lines, read_jsonl
from civicshield.detect.sigma.loader import _info

SYSMON = "Microsoft-Windows-Sysmon/Operational"
RULE_ID = "aaaaaaaa-1111-4111-8111-111111111111"


def make_rule(detection: str, logsource: str = "category: process_creation\n    product: windows"):
    text = (
        f"title: T\nid: {RULE_ID}\nstatus: test\nauthor: tests\nlevel: high\n"
        f"logsource:\n    {logsource}\ndetection:\n{detection}"
    )
    rule = SigmaCollection.from_yaml(text).rules[0]
    return _info(rule, Path("/r/t.yml"), "t.yml")


def proc(**fields: object) -> dict[str, object]:
    return {"Channel": SYSMON, "EventID": 1, **fields}


def frame(events: list[dict[str, object]]) -> pl.DataFrame:
    keys = sorted({k for e in events for k in e})
    data = {k: [None if e.get(k) is None else str(e[k]) for e in events] for k in keys}
    values = ["\x1f".join(str(v) for v in e.values()) for e in events]
    return pl.DataFrame(
        {**data, "_values": values}, schema={**dict.fromkeys(keys, pl.String), "_values": pl.String}
    )


def hits(
    detection: str, events: list[dict[str, object]], logsource: str | None = None
) -> list[int]:
    rule = make_rule(detection, logsource) if logsource else make_rule(detection)
    compiled = compile_rule(rule, WindowsNativeMapping())
    assert not isinstance(compiled, Unsupported), compiled
    ruleset = CompiledRuleSet([compiled])
    return sorted(evaluate(ruleset, frame(events))["event_index"].to_list())


def sel(body: str, condition: str = "selection") -> str:
    return f"    selection:\n{body}    condition: {condition}\n"


@pytest.mark.parametrize(
    ("body", "values", "expected"),
    [
        (
            "        Image: 'C:\\Windows\\cmd.exe'\n",
            ["c:\\windows\\CMD.exe", "c:\\windows\\cmd.exe2"],
            [0],
        ),
        ("        Image|contains: 'cmd'\n", ["xCMDx", "pwsh"], [0]),
        ("        Image|startswith: 'C:\\Win'\n", ["c:\\windows\\x", "d:\\windows"], [0]),
        ("        Image|endswith: '\\cmd.exe'\n", ["c:\\CMD.EXE", "cmd.exe.bak"], [0]),
        ("        Image: 'c?d*'\n", ["cmd.exe", "cxxd", "cd"], [0]),
        ("        Image: 'a\\*b'\n", ["a*b", "axb"], [0]),
        ("        Image: 'a\\?b'\n", ["a?b", "axb"], [0]),
        ("        Image|cased: 'Cmd'\n", ["Cmd", "cmd"], [0]),
        ("        Image|re: '^C.d$'\n", ["Cmd", "cmd"], [0]),
        ("        Image|re|i: '^C.d$'\n", ["Cmd", "cmd"], [0, 1]),
        ("        Image|re|s: 'a.b'\n", ["a\nb", "ab"], [0]),
        ("        Image|re|m: '^b$'\n", ["a\nb", "ab"], [0]),
        ("        Image|cidr: '10.0.0.0/8'\n", ["10.1.2.3", "11.0.0.1"], [0]),
        ("        Image|exists: true\n", ["x", None], [0]),
        ("        Image|exists: false\n", ["x", None], [1]),
        ("        Image: null\n", ["x", None], [1]),
        ("        Image|lt: 5\n", ["4", "5"], [0]),
        ("        Image|lte: 5\n", ["5", "6"], [0]),
        ("        Image|gt: 5\n", ["6", "5"], [0]),
        ("        Image|gte: 5\n", ["5", "x"], [0]),
        ("        Image:\n            - a\n            - b\n", ["A", "b", "c"], [0, 1]),
        ("        Image|contains|all:\n            - a\n            - b\n", ["xaxbx", "xax"], [0]),
        ("        Image|windash|contains: ' -f '\n", [" /f ", " –f ", " f "], [0, 1]),
        ("        Image|base64: 'abc'\n", [base64.b64encode(b"abc").decode(), "abc"], [0]),
        (
            "        Image|base64offset|contains: 'http'\n",
            [base64.b64encode(b"xhttp://").decode(), "http"],
            [0],
        ),
        (
            "        Image|wide|base64offset|contains: 'ab'\n",
            [base64.b64encode("ab".encode("utf-16le")).decode(), "ab"],
            [0],
        ),
        (
            "        Image|utf16be|base64: 'a'\n",
            [base64.b64encode("a".encode("utf-16be")).decode(), "a"],
            [0],
        ),
        (
            "        Image|utf16|base64: 'a'\n",
            [base64.b64encode("a".encode("utf-16")).decode(), "a"],
            [0],
        ),
    ],
)
def test_modifiers_and_wildcards(body: str, values: list[object], expected: list[int]) -> None:
    assert hits(sel(body), [proc(Image=v) for v in values]) == expected


def test_fieldref() -> None:
    body = "        Image|fieldref: ParentImage\n"
    events = [proc(Image="A", ParentImage="a"), proc(Image="a", ParentImage="b")]
    assert hits(sel(body), events) == [0]


def test_numbers_compare_as_text() -> None:
    assert hits(sel("        LogonType: 3\n"), [proc(LogonType=3), proc(LogonType=10)]) == [0]


def test_absent_field_does_not_match_and_not_of_it_is_true() -> None:
    det = (
        "    selection:\n        Image|endswith: 'x'\n    filter:\n        Missing: 'y'\n"
        "    condition: selection and not filter\n"
    )
    assert hits(det, [proc(Image="ax"), proc(Image="ab")]) == [0]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("sel_a and sel_b", [0]),
        ("sel_a or sel_b", [0, 1, 2]),
        ("not sel_a", [2, 3]),
        ("sel_a and not (sel_b or filter)", [1]),
        ("1 of sel_*", [0, 1, 2]),
        ("all of sel_*", [0]),
        ("1 of them", [0, 1, 2, 3]),
        ("all of them", []),
        ("any of sel_* and not 1 of filter*", [0, 1, 2]),
    ],
)
def test_condition_forms(condition: str, expected: list[int]) -> None:
    det = (
        "    sel_a:\n        A: '1'\n    sel_b:\n        B: '1'\n"
        f"    filter:\n        C: '1'\n    condition: {condition}\n"
    )
    events = [proc(A="1", B="1"), proc(A="1"), proc(B="1"), proc(C="1")]
    assert hits(det, events) == expected


def test_keywords_search_every_field() -> None:
    det = "    keywords:\n        - 'Mimikatz'\n        - 'kiwi*golden'\n    condition: keywords\n"
    events = [
        proc(X="run MIMIKATZ now"),
        proc(Y="kiwi::golden"),
        proc(Z="kiwi"),
        proc(A="x", B="golden"),
    ]
    assert hits(det, events, "product: windows") == [0, 1]


def test_keywords_all() -> None:
    det = (
        "    keywords:\n        '|all':\n            - 'a1'\n            - 'b2'\n"
        "    condition: keywords\n"
    )
    assert hits(det, [proc(X="a1 b2"), proc(X="a1")], "product: windows") == [0]


def test_logsource_routing() -> None:
    body = sel("        Image|endswith: 'cmd.exe'\n")
    events = [
        proc(Image="cmd.exe"),
        {"Channel": SYSMON, "EventID": 3, "Image": "cmd.exe"},
        {"Channel": "Security", "EventID": 1, "Image": "cmd.exe"},
        {"Channel": "security", "EventID": 4688, "Image": "cmd.exe"},
    ]
    assert hits(body, events) == [0]
    assert hits(body, events, "category: network_connection\n    product: windows") == [1]
    assert hits(body, events, "service: security\n    product: windows") == [2, 3]
    assert hits(body, events, "product: windows") == [0, 1, 2, 3]


def test_unknown_logsource_is_unsupported_with_reason() -> None:
    for logsource, reason in [
        ("category: nope\n    product: windows", "category 'nope'"),
        ("service: nope\n    product: windows", "service 'nope'"),
        ("category: process_creation\n    product: linux", "product 'linux'"),
    ]:
        result = compile_rules([make_rule(sel("        A: b\n"), logsource)])
        assert not result.rules
        assert reason in result.unsupported[0].reason


def test_match_frame_columns() -> None:
    ruleset = compile_rules([make_rule(sel("        Image: x\n"))])
    out = evaluate(ruleset, frame([proc(Image="x")]))
    assert out.columns == ["rule_id", "rule_title", "level", "author", "tags", "event_index"]
    assert out.row(0) == (RULE_ID, "T", "high", "tests", [], 0)


def test_reader_keeps_fields_first_seen_late_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [json.dumps(proc(Image=f"a{i}.exe")) for i in range(1500)]
    lines[1200] = json.dumps(proc(Image="x.exe", LateField="EVIL"))
    lines[10] = "{not json"
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    ruleset = compile_rules([make_rule(sel("        LateField: evil\n"))])
    found: list[int] = []
    bad = []
    for batch in read_jsonl(path, ruleset.fields, batch_size=700, values=ruleset.needs_values):
        bad.extend(batch.bad_lines)
        lines_col = batch.frame["_line"].to_list()
        found += [lines_col[i] for i in evaluate(ruleset, batch.frame)["event_index"].to_list()]
    assert found == [1201]
    assert [(b.line, b.reason.startswith("invalid JSON")) for b in bad] == [(11, True)]


# --- cidr, comparisons, fieldref|contains, keywords and U+001F ---------------------------------


@pytest.mark.parametrize(
    ("network", "texts", "expected"),
    [
        ("10.0.0.0/8", ["10.0.0.1", "10.0.0.1:443", "10.x", "10.0.0.1 ", "010.0.0.1"], [0]),
        ("10.0.0.0/8", ["10.1.2.3.4", "10.256.0.1", "11.0.0.1", "::ffff:10.0.0.1"], []),
        ("172.16.0.0/12", ["172.15.255.255", "172.16.0.0", "172.31.255.255", "172.32.0.0"], [1, 2]),
        (
            "2001:db8::/32",
            ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", "2001:db9::1", "2001:db8:"],
            [0, 1],
        ),
        ("::1/128", ["0:0:0:0:0:0:0:1", "::0.0.0.1", "::1%lo", "::1%", "::2", "1::"], [0, 1, 2]),
        ("fe80::/10", ["FE80::1", "febf:ffff::", "fec0::1", "fe80::1::2", "fe80:1"], [0, 1]),
        ("::ffff:0:0/96", ["::ffff:10.1.2.3", "::FFFF:0A01:0203", "::fffe:10.1.2.3"], [0, 1]),
    ],
)
def test_cidr_needs_an_address_in_the_network(
    network: str, texts: list[str], expected: list[int]
) -> None:
    assert (
        hits(sel(f"        Image|cidr: '{network}'\n"), [proc(Image=t) for t in texts]) == expected
    )


def test_cidr_list_is_one_expression() -> None:
    body = "        Image|cidr:\n            - '10.0.0.0/8'\n            - 'fc00::/7'\n"
    texts = ["10.9.9.9", "fd00::1", "fe00::1", "192.168.0.1"]
    assert hits(sel(body), [proc(Image=t) for t in texts]) == [0, 1]


NETWORKS_V6 = st.builds(
    lambda value, prefix: ipaddress.IPv6Network((value, prefix), strict=False),
    st.integers(0, 2**128 - 1) | st.sampled_from([0, 1, 0xFFFF << 32, 0xFE80 << 112]),
    st.integers(0, 128),
)
NETWORKS_V4 = st.builds(
    lambda value, prefix: ipaddress.IPv4Network((value, prefix), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)


@st.composite
def address_texts(draw: st.DrawFn, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """Text forms of addresses in and near `network`, and slightly broken ones."""
    if draw(st.booleans()):
        offset = draw(st.integers(0, network.num_addresses - 1))
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = network[offset]
    else:
        address = draw(st.ip_addresses(v=network.version))
    text = address.compressed
    if isinstance(address, ipaddress.IPv6Address):
        groups = address.exploded.split(":")
        keep = draw(st.lists(st.booleans(), min_size=8, max_size=8))
        text = draw(
            st.sampled_from(
                [
                    address.compressed,
                    address.exploded.upper(),
                    ":".join(
                        g if k else g.lstrip("0") or "0" for g, k in zip(groups, keep, strict=True)
                    ),
                    address.compressed.rsplit(":", 2)[0]
                    + f":{ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)}",
                    address.compressed + "%eth0",
                ]
            )
        )
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["", ":", ".", "0", "g", " ", "%"]))
        text = text[:at] + edit + text[at + (edit == "") :]
    return text


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_network_pattern_agrees_with_ipaddress(data: st.DataObject) -> None:
    networks = data.draw(st.lists(NETWORKS_V6 | NETWORKS_V4, min_size=1, max_size=3))
    texts = data.draw(st.lists(st.one_of(*(address_texts(n) for n in networks)), max_size=20))
    got = pl.Series(texts, dtype=pl.String).str.contains(network_pattern(networks)).to_list()

    def expected(text: str) -> bool:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            return False
        return any(address.version == n.version and address in n for n in networks)

    assert got == [expected(t) for t in texts]


@given(st.data())
@settings(max_examples=100, deadline=None)
def test_ipv6_atoms_are_necessary(data: st.DataObject) -> None:
    network = data.draw(NETWORKS_V6)
    atoms = ipv6_atoms(network)
    if atoms is None:
        assert (int(network.network_address) >> 124 == 0) or network.prefixlen < 4
        return
    text = data.draw(address_texts(network))
    try:
        inside = ipaddress.ip_address(text) in network
    except ValueError:
        inside = False
    if inside:
        assert any(atom in text.lower() for atom in atoms), (text, atoms)


def test_ipv6_atoms() -> None:
    assert ipv6_atoms(ipaddress.IPv6Network("fe80::/10")) == ["fe8", "fe9", "fea", "feb"]
    assert ipv6_atoms(ipaddress.IPv6Network("2001:db8::/32")) == ["2001:"]
    assert ipv6_atoms(ipaddress.IPv6Network("2a01:111:f403::/48")) == ["2a01:"]
    assert ipv6_atoms(ipaddress.IPv6Network("::1/128")) is None


@pytest.mark.parametrize(
    ("text", "matched"),
    [
        ("12", True),
        ("1e1", True),
        ("6.5", True),
        ("-0", False),
        ("NaN", False),
        ("inf", False),
        ("Infinity", False),
        ("+7", False),
        (" 7", False),
        ("07", False),
        ("7.", False),
        ("0x10", False),
    ],
)
def test_compare_needs_a_json_number(text: str, matched: bool) -> None:
    assert hits(sel("        Image|gt: 5\n"), [proc(Image=text)]) == ([0] if matched else [])


@pytest.mark.parametrize(
    ("modifier", "expected"),
    [("contains", [0, 1, 2]), ("startswith", [1, 2]), ("endswith", [0, 2])],
)
def test_fieldref_contains_startswith_endswith(modifier: str, expected: list[int]) -> None:
    body = f"        Image|fieldref|{modifier}: ParentImage\n"
    events = [
        proc(Image="xAB", ParentImage="ab"),
        proc(Image="Abx", ParentImage="ab"),
        proc(Image="ab", ParentImage="AB"),
        proc(Image="a", ParentImage="ab"),
        proc(Image="ab"),
    ]
    assert hits(sel(body), events) == expected


def test_values_text_escapes_the_separator_inside_values() -> None:
    line = json.dumps({"a": "x\x1fy", "b": ["\x1e", 2], "c": None, "d": "\x1d"})
    assert values_text(line) == "x\x1e\x1dy\x1f\x1e\x1e\x1f2\x1f\x1d"


def keyword_hits(words: list[str], events: list[dict[str, object]]) -> list[int]:
    det = "    keywords:\n" + "".join(f"        - {json.dumps(w)}\n" for w in words)
    ruleset = compile_rules([make_rule(det + "    condition: keywords\n", "product: windows")])
    assert not ruleset.unsupported
    lines = [(n, json.dumps(e).encode()) for n, e in enumerate(events, start=1)]
    found: set[int] = set()
    for values in (True, False):  # `_values` from the reader, or derived from `_raw`
        batch = batch_from_lines("t", lines, ruleset.fields, values=values)
        got = set(evaluate(ruleset, batch.frame)["event_index"].to_list())
        assert not found or got == found
        found = got
    return sorted(found)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("a*b", [0, 3]),
        ("a?b", [0]),
        ("a\x1fb", [0]),
        ("\x1db", [2]),
        ("\x1e", [2]),
        ("?\x1d?", [2]),
        ("b\x1e", [2]),
        ("?b", [0, 2, 3]),
        ("*a?b", [0]),
    ],
)
def test_keywords_with_separator_characters(word: str, expected: list[int]) -> None:
    events = [{"X": "a\x1fb"}, {"X": "a", "Y": "b"}, {"X": "b\x1e\x1db"}, {"X": "ab"}]
    assert keyword_hits([word], events) == expected


def test_keyword_atoms_with_escaped_characters_are_dropped() -> None:
    plain = compile_rule(
        make_rule("    k:\n        - 'abcd'\n    condition: k\n"), WindowsNativeMapping()
    )
    odd = compile_rule(
        make_rule('    k:\n        - "ab\\x1fcd"\n    condition: k\n'), WindowsNativeMapping()
    )
    assert not isinstance(plain, Unsupported) and not isinstance(odd, Unsupported)
    assert plain.atoms == (frozenset({("_values", "abcd")}),)
    assert odd.atoms is None


@pytest.mark.parametrize(
    "body",
    [
        "        Image|cidr:\n            - '10.0.0.0/8'\n            - 'fe80::/10'\n",
        "        Image|gt: 5\n",
        "        Image|fieldref|contains: ParentImage\n",
    ],
)
def test_new_expressions_serialise(body: str) -> None:
    compiled = compile_rule(make_rule(sel(body)), WindowsNativeMapping())
    assert not isinstance(compiled, Unsupported)
    blob = compiled.expr.meta.serialize(format="binary")
    assert pl.Expr.deserialize(io.BytesIO(blob), format="binary").meta.eq(compiled.expr)


def test_windows_log_sources_beyond_the_sysmon_pipeline() -> None:
    from civicshield.detect.engine import route_windows

    detected = route_windows("windows", "file_executable_detected", None)
    assert isinstance(detected, Route) and detected.event_ids == ("29",)
    kernel = route_windows("windows", "file_access", None)
    assert isinstance(kernel, Route)
    assert kernel.extra == (("Provider_Name", ("Microsoft-Windows-Kernel-File",)),)
    smb = route_windows("windows", None, "smbserver-connectivity")
    assert isinstance(smb, Route)
    assert smb.channels == ("Microsoft-Windows-SMBServer/Connectivity",)
    rule = make_rule(
        "    selection:\n        FileName|endswith: '\\\\credhist'\n    condition: selection",
        "category: file_access\n    product: windows",
    )
    compiled = compile_rule(rule, WindowsNativeMapping())
    assert not isinstance(compiled, Unsupported)
    events = [
        {"Provider_Name": "Microsoft-Windows-Kernel-File", "FileName": "C:\\x\\CREDHIST"},
        {"Provider_Name": "Microsoft-Windows-Sysmon", "FileName": "C:\\x\\credhist"},
    ]
    assert evaluate(CompiledRuleSet([compiled]), frame(events))["event_index"].to_list() == [0]
