"""Our warninglist evaluation (`intel.warninglists.WarninglistMatcher`) agrees with MISP's own
`pymispwarninglists` 1.7.0 (`WarningLists(slow_search=True)`, the "most appropriate search"
per list type) on the shared lists, for generated values of each list type and the values of
the research note (ir-intel.md §2.3 F).

How the comparison is made: for a list and a value, pymispwarninglists says `value in list`;
we say whether the list is among `find_all(kind, value)`, `kind` being a lookup kind the list's
`matching_attributes` accept (pymispwarninglists ignores those; we apply them as MISP's server
does, so values are only asked in a kind the list is meant for).

Deliberate differences (docs/intel.md), tested separately: we compare case-insensitively
(MISP's server lowercases too; pymispwarninglists does not), and we evaluate `regex` lists
(MISP's server does; pymispwarninglists 1.7.0's slow search has no regex branch and never
matches).
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicshield.intel.warninglists import KIND_ATTRIBUTES, WarninglistMatcher, read_list

from .conftest import shared

api = pytest.importorskip("pymispwarninglists.api", reason="pymispwarninglists (test dependency)")


def _root() -> Path:
    return shared("misp-warninglists")


def _files() -> list[Path]:
    return sorted((_root() / "lists").glob("*/list.json"))


@pytest.fixture(scope="module")
def engines() -> tuple[WarninglistMatcher, Any, dict[str, dict[str, Any]]]:
    files = _files()
    raw = {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in files}
    # pymispwarninglists keys lists by their `name` title; we key them by directory (as MISP)
    theirs = api.WarningLists(slow_search=True, lists=[dict(v, name=k) for k, v in raw.items()])
    return WarninglistMatcher([read_list(p) for p in files]), theirs, raw


def _kind(raw: dict[str, Any], value: str) -> str | None:
    """A lookup kind the list applies to and that fits the value."""
    attrs = set(raw.get("matching_attributes", []))
    if raw["type"] == "cidr":
        return f"ipv{ipaddress.ip_address(value).version}"
    fits = [k for k, a in KIND_ATTRIBUTES.items() if not attrs or a & attrs]
    for kind in ("url", "domain", "sha256", "md5", "sha1", "email"):
        if kind in fits and (kind != "url" or "://" in value):
            return kind
    return None


def _agree(engines: Any, name: str, value: str) -> bool:
    ours, theirs, raw = engines
    kind = _kind(raw[name], value)
    if kind is None:
        pytest.skip(f"{name}: no lookup kind of ours reads its matching_attributes")
    mine = name in {n for n, _ in ours.find_all(kind, value)}
    return mine == (value in theirs[name])


def _lists_of(kind: str) -> list[str]:
    return sorted(
        p.parent.name for p in _files() if json.loads(p.read_text(encoding="utf-8"))["type"] == kind
    )


_word = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)


@given(data=st.data())
def test_cidr_lists_agree(engines: Any, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_lists_of("cidr")))
    entries = [e for e in engines[2][name]["list"] if "/" in e or ":" in e or "." in e]
    net = ipaddress.ip_network(data.draw(st.sampled_from(entries)).strip(), strict=False)
    inside = ipaddress.ip_address(
        int(net.network_address) + data.draw(st.integers(0, net.num_addresses - 1))
    )
    outside = data.draw(st.ip_addresses(v=net.version))
    for value in (str(inside), str(outside)):
        assert _agree(engines, name, value), (name, value)
    assert name in {n for n, _ in engines[0].find_all(f"ipv{net.version}", str(inside))}


@given(data=st.data())
def test_string_lists_agree(engines: Any, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_lists_of("string")))
    entry = data.draw(st.sampled_from(engines[2][name]["list"])).lower()
    other = data.draw(st.text("0123456789abcdef", min_size=32, max_size=64))
    for value in (entry, other):
        assert _agree(engines, name, value), (name, value)


@given(data=st.data())
def test_hostname_lists_agree(engines: Any, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_lists_of("hostname")))
    entry = data.draw(st.sampled_from(engines[2][name]["list"])).lower()
    sub, word = data.draw(_word), data.draw(_word)
    for value in (
        entry,
        f"{sub}.{entry}",
        f"https://{sub}.{entry}/{word}",
        f"{word}.example",
        f"{sub}{entry}",
    ):
        assert _agree(engines, name, value), (name, value)


@given(data=st.data())
def test_substring_lists_agree(engines: Any, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(_lists_of("substring")))
    entry = data.draw(st.sampled_from(engines[2][name]["list"])).lower()
    before, after = data.draw(_word), data.draw(_word)
    for value in (f"{before}{entry}{after}", f"{before}.example", f"http://{before}/{after}"):
        assert _agree(engines, name, value), (name, value)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("192.168.1.10", "ipv4", {"rfc1918", "rfc5735"}),
        ("100.64.3.4", "ipv4", {"rfc6598"}),
        ("bit.ly", "domain", {"url-shortener", "link-in-bio"}),
        ("d41d8cd98f00b204e9800998ecf8427e", "md5", {"empty-hashes", "common-ioc-false-positive"}),
        ("api.ipify.org", "domain", {"whats-my-ip"}),
        ("fe80::1", "ipv6", {"ipv6-linklocal"}),
        ("8.8.8.8", "ipv4", set()),
    ],
)
def test_the_values_of_the_research_note(
    engines: Any, value: str, kind: str, expected: set[str]
) -> None:
    ours, theirs, _ = engines
    assert {n for n, _ in ours.find_all(kind, value)} == expected
    assert {wl.name for wl in theirs.search(value)} == expected


def test_regex_lists_are_evaluated_by_us_only(engines: Any) -> None:
    ours, theirs, _ = engines
    hit = {n for n, _ in ours.find_all("email", "Abuse@city.example")}
    assert "common-contact-emails" in hit
    assert not ours.find_all("email", "clerk@city.example")
    assert "Abuse@city.example" not in theirs["common-contact-emails"]


def test_case_is_ignored_by_us_only(engines: Any) -> None:
    ours, theirs, _ = engines
    assert "url-shortener" in {n for n, _ in ours.find_all("domain", "BIT.LY")}
    assert "BIT.LY" not in theirs["url-shortener"]
