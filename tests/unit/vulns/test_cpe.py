"""CPE 2.3 parsing, binding, 2.2 URI conversion and IR 7696 name matching."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.vulns.cpe import (
    ANY,
    ATTRIBUTES,
    NA,
    Cpe,
    CpeError,
    criterion_matches,
    parse_cpe,
    parse_cpe22_uri,
    parse_cpe23,
)


def test_parse_formatted_string_keeps_any_and_na_distinct() -> None:
    cpe = parse_cpe23("cpe:2.3:o:unitronics:vision1210_firmware:-:*:*:*:*:*:*:*")
    assert (cpe.part, cpe.vendor, cpe.product) == ("o", "unitronics", "vision1210_firmware")
    assert cpe.version == NA
    assert cpe.update == ANY
    assert cpe.to_fs() == "cpe:2.3:o:unitronics:vision1210_firmware:-:*:*:*:*:*:*:*"


def test_escaped_colon_and_parentheses_stay_inside_the_value() -> None:
    cpe = parse_cpe23(r"cpe:2.3:o:cisco:ios:15.1\(1\)xb:*:*:*:*:*:*:*")
    assert cpe.version == r"15.1\(1\)xb"
    assert cpe.version_text == "15.1(1)xb"
    colon = parse_cpe23(r"cpe:2.3:a:vendor:prod\:uct:1.0:*:*:*:*:*:*:*")
    assert colon.product == r"prod\:uct"
    assert parse_cpe23(colon.to_fs()) == colon


def test_lower_cases_and_drops_redundant_quoting() -> None:
    cpe = parse_cpe23(r"cpe:2.3:h:D\-Link:DIR\-600:-:*:*:*:*:*:*:*")
    assert cpe.vendor == "d-link"
    assert cpe.product == "dir-600"


def test_alias_table_gives_one_index_key() -> None:
    a = parse_cpe("cpe:2.3:o:d-link:dir-600_firmware:2.0:*:*:*:*:*:*:*")
    b = parse_cpe("cpe:2.3:o:dlink:dir-600_firmware:2.0:*:*:*:*:*:*:*")
    assert a.key == b.key == ("o", "dlink", "dir-600_firmware")
    assert a.normalised() == b
    assert criterion_matches(a, b)


@pytest.mark.parametrize(
    ("uri", "fs"),
    [
        ("cpe:/a:openbsd:openssh:7.4", "cpe:2.3:a:openbsd:openssh:7.4:*:*:*:*:*:*:*"),
        ("cpe:/a:igor_sysoev:nginx", "cpe:2.3:a:igor_sysoev:nginx:*:*:*:*:*:*:*:*"),
        ("cpe:/o:linux:linux_kernel:2.6", "cpe:2.3:o:linux:linux_kernel:2.6:*:*:*:*:*:*:*"),
        ("cpe:/a:foo%21bar:p:-", r"cpe:2.3:a:foo\!bar:p:-:*:*:*:*:*:*:*"),
        ("cpe:/a:v:p:1.0::~~pro~win~x64~", "cpe:2.3:a:v:p:1.0:*:*:*:pro:win:x64:*"),
        ("cpe:/a:v:p:1.%02", "cpe:2.3:a:v:p:1.*:*:*:*:*:*:*:*"),
        ("CPE:/H:Cisco:ASA_5505", "cpe:2.3:h:cisco:asa_5505:*:*:*:*:*:*:*:*"),
    ],
)
def test_cpe22_uri_to_23(uri: str, fs: str) -> None:
    assert parse_cpe22_uri(uri).to_fs() == fs
    assert parse_cpe(uri) == parse_cpe(fs)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("cpe:2.3:a:v:p:1.0:*:*:*:*:*:*", "11 attributes"),
        ("cpe:2.2:a:v:p:1.0:*:*:*:*:*:*:*", "cpe:2.3"),
        ("cpe:2.3:x:v:p:1.0:*:*:*:*:*:*:*", "'part'"),
        ("cpe:2.3:a::p:1.0:*:*:*:*:*:*:*", "'vendor'"),
        ("cpe:2.3:a:v:p:1 0:*:*:*:*:*:*:*", "'version'"),
        ("cpe:2.3:a:v:p:*:*:*:*:*:*:*:x\\", "'other'"),
        ("cpe:/a:v:p:1.%zz", "'version'"),
        ("cpe:/a:v:p:1:u:~a~b~c", "packed edition"),
    ],
)
def test_malformed_names_say_what_is_wrong(text: str, names: str) -> None:
    with pytest.raises(CpeError, match=names.replace("(", r"\(").replace("*", r"\*")):
        parse_cpe(text)


def _match(criterion: str, target: str) -> bool:
    return criterion_matches(parse_cpe(criterion), parse_cpe(target))


def test_ir7696_any_na_and_wildcards() -> None:
    base = "cpe:2.3:a:v:p:{}:*:*:*:*:*:*:*"
    assert _match(base.format("*"), base.format("1.0"))  # ANY ⊇ value
    assert _match(base.format("*"), base.format("-"))  # ANY ⊇ NA
    assert _match(base.format("-"), base.format("-"))  # NA = NA
    assert not _match(base.format("-"), base.format("1.0"))  # NA disjoint from a value
    assert not _match(base.format("1.0"), base.format("*"))  # value ⊂ ANY: not a match
    assert not _match(base.format("1.0"), base.format("-"))
    assert _match(base.format("1.*"), base.format("1.2.3"))
    assert not _match(base.format("1.*"), base.format("2.0"))
    assert _match(base.format("1.?"), base.format("1.5"))
    assert not _match(base.format("1.?"), base.format("1.55"))
    assert not _match(base.format(r"1.\*"), base.format("1.5"))  # quoted: a literal star
    assert not _match("cpe:2.3:a:v:other:*:*:*:*:*:*:*:*", base.format("1.0"))


_VALUE = st.one_of(
    st.sampled_from([ANY, NA]),
    st.text(alphabet="abcxyz0189._-!()~:@", min_size=1, max_size=8).map(
        lambda s: "".join(c if c.isalnum() or c in "._-" else "\\" + c for c in s)
    ),
)


@given(st.tuples(st.sampled_from(["a", "o", "h"]), *[_VALUE] * 10))
def test_formatted_string_round_trip(values: tuple[str, ...]) -> None:
    cpe = Cpe(**dict(zip(ATTRIBUTES, values, strict=True)))
    again = parse_cpe23(cpe.to_fs())
    assert again == cpe
    assert criterion_matches(cpe, again)
