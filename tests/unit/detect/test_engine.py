"""The Polars engine on small constructed rules and frames (modifiers, wildcards, conditions,
log-source routing) and the JSONL reader (explicit schema, bad lines)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import polars as pl
import pytest
from sigma.collection import SigmaCollection

from civicshield.detect.engine import (
    CompiledRuleSet,
    Unsupported,
    WindowsNativeMapping,
    compile_rule,
    compile_rules,
    evaluate,
)
from civicshield.detect.readers import read_jsonl
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
