"""Our pattern compiler accepts nothing the STIX 2.1 grammar refuses.

Imports skip the `stix2` ANTLR pattern validator for patterns our compiler accepts (it costs
milliseconds per pattern), so our compiler must be a strict subset of the grammar: every
pattern it compiles, `stix2-patterns` (the OASIS reference validator) must accept too. The
patterns are mutations (characters dropped, inserted, operators and quotes spliced in) of the
forms we compile."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2patterns.validator import run_validator  # type: ignore[import-untyped]

from civicshield.detect.indicators import PatternError, compile_pattern

SEEDS = [
    "[ipv4-addr:value = '192.0.2.1']",
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8']",
    "[ipv6-addr:value = '2001:db8::1']",
    "[domain-name:value = 'a.example']",
    "[url:value = 'http://x.example/it\\'s?b=c']",
    "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
    "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    "[email-addr:value = 'a@b.example']",
    "[network-traffic:dst_port = 23]",
    "[network-traffic:dst_ref.value = '192.0.2.66' AND network-traffic:dst_port = 23]",
    "[ipv4-addr:value = '1.1.1.1'] OR [domain-name:value = 'x.example']",
    "[ipv4-addr:value = '1.1.1.1' OR ipv4-addr:value = '2.2.2.2']",
]
SPLICES = ["'", "[", "]", " AND ", " OR ", "\\", ":", "=", " ", "''", "\\'", "\\\\", "(", ")"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    pattern = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(pattern)))
        action = draw(st.sampled_from(("drop", "char", "splice")))
        if action == "drop":
            pattern = pattern[:pos] + pattern[pos + 1 :]
        elif action == "char":
            pattern = pattern[:pos] + draw(st.characters(max_codepoint=126)) + pattern[pos:]
        else:
            pattern = pattern[:pos] + draw(st.sampled_from(SPLICES)) + pattern[pos:]
    return pattern


@pytest.mark.parametrize("pattern", SEEDS)
def test_the_seeds_are_valid_stix(pattern: str) -> None:
    assert compile_pattern(pattern)
    assert not run_validator(pattern, "2.1")


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value = 'a.example'] OR ",  # nothing after OR
        "[url:value = 'http://x.example/\\a']",  # \a is no STIX escape
        "[email-addr:value = 'a@b.exam\\ple']",
    ],
)
def test_what_the_grammar_refuses_we_refuse(pattern: str) -> None:
    assert run_validator(pattern, "2.1")
    with pytest.raises(PatternError):
        compile_pattern(pattern)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_whatever_we_compile_is_valid_stix(pattern: str) -> None:
    try:
        compile_pattern(pattern)
    except PatternError:
        return
    assert not run_validator(pattern, "2.1"), pattern
