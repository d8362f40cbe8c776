"""Keyword rules searched in the raw JSON line: escapes, optional escapes, key names."""

from __future__ import annotations

from pathlib import Path

from sigma.collection import SigmaCollection

from civicshield.detect.engine import compile_rules, evaluate
from civicshield.detect.readers import batch_from_lines
from civicshield.detect.sigma.loader import _info


def keyword_rule(*keywords: str):  # type: ignore[no-untyped-def]
    listed = "\n".join(f"        - '{k}'" for k in keywords)
    text = (
        "title: K\nid: bbbbbbbb-1111-4111-8111-111111111111\nstatus: test\nauthor: tests\n"
        "level: high\nlogsource:\n    product: windows\ndetection:\n    keywords:\n"
        f"{listed}\n    condition: keywords\n"
    )
    return _info(SigmaCollection.from_yaml(text).rules[0], Path("/r/k.yml"), "k.yml")


def fired(keywords: tuple[str, ...], lines: list[bytes]) -> list[int]:
    ruleset = compile_rules([keyword_rule(*keywords)])
    numbered = list(enumerate(lines, start=1))
    batch = batch_from_lines("t", numbered, ruleset.fields, raw=True)
    assert "_values" not in batch.frame.columns  # searched in `_raw`, derived per candidate
    with_filter = sorted(evaluate(ruleset, batch.frame)["event_index"].to_list())
    without = sorted(evaluate(ruleset, batch.frame, prefilter=False)["event_index"].to_list())
    assert with_filter == without
    return with_filter


def test_keyword_found_through_json_escapes() -> None:
    lines = [
        b'{"CommandLine": "C:\\\\Tools\\\\mimikatz.exe sekurlsa::logonpasswords"}',
        b'{"CommandLine": "notepad.exe"}',
    ]
    assert fired(("\\mimikatz.exe",), lines) == [0]


def test_optional_escapes_are_undone_before_searching() -> None:
    lines = [
        b'{"Url": "http:\\/\\/evil.example\\/x"}',  # `\/` written for `/`
        b'{"User": "Jos\\u00e9"}',  # non-ASCII written as \\u00e9
        b'{"User": "jose"}',
    ]
    assert fired(("//evil.example/",), lines) == [0]
    assert fired(("josé",), lines) == [1]


def test_keyword_in_a_key_name_only_does_not_fire() -> None:
    assert fired(("mimikatz",), [b'{"mimikatz": "no"}', b'{"x": "MIMIKATZ"}']) == [1]
