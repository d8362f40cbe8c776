"""Warninglists (each list type, on the real MISP lists) and ageing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from civicshield import intel
from civicshield.core import SYSTEM
from civicshield.intel.ageing import expires_at
from civicshield.intel.warninglists import WarninglistMatcher, read_list
from civicshield.runtime import Runtime

from .conftest import bundle, indicator, shared

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.fixture
def matcher() -> WarninglistMatcher:
    lists = shared("misp-warninglists/lists")
    return WarninglistMatcher([read_list(p) for p in sorted(lists.glob("*/list.json"))])


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        # the answers of pymispwarninglists 1.7.0 on these lists (research note ir-intel §2.3 F)
        ("ipv4", "192.168.1.10", {"rfc1918", "rfc5735"}),  # cidr
        ("ipv4", "100.64.3.4", {"rfc6598"}),
        ("ipv6", "fe80::1", {"ipv6-linklocal"}),
        ("domain", "bit.ly", {"url-shortener", "link-in-bio"}),  # hostname
        ("domain", "api.ipify.org", {"whats-my-ip"}),
        ("md5", "d41d8cd98f00b204e9800998ecf8427e", {"empty-hashes", "common-ioc-false-positive"}),
        ("ipv4", "8.8.8.8", set()),
        ("domain", "kraken-iot.example", set()),
    ],
)
def test_oracle_answers(
    matcher: WarninglistMatcher, kind: str, value: str, expected: set[str]
) -> None:
    assert {name for name, _ in matcher.find_all(kind, value)} == expected


def test_each_list_type(matcher: WarninglistMatcher) -> None:
    assert matcher.find("ipv4", "10.1.2.3/32") == ("rfc1918", "10.0.0.0/8")  # cidr contains
    assert matcher.find("ipv4", "10.1.0.0/16") == ("rfc1918", "10.0.0.0/8")  # network inside
    assert matcher.find("ipv4", "10.0.0.0/7") is None  # wider than the entry
    assert matcher.find("domain", "www.bit.ly") is not None  # a subdomain of a hostname entry
    assert matcher.find("domain", "bit.ly.example") is None
    assert matcher.find("url", "https://bit.ly/x") is not None  # a URL's host
    hit = matcher.find("domain", "x.app.any.run")  # substring
    assert hit is not None and hit[0] == "automated-malware-analysis"
    hit = matcher.find("email", "SOC@city.example")  # regex, PHP-delimited with /i
    assert hit is not None and hit[0] == "common-contact-emails"
    assert matcher.find("email", "mayor@city.example") is None
    # A list applies only to its matching_attributes: a hash list says nothing of a domain.
    assert matcher.find("domain", "d41d8cd98f00b204e9800998ecf8427e") is None


def test_address_and_port_pairs_are_judged_by_their_address(matcher: WarninglistMatcher) -> None:
    # MISP ip-dst|port compiles to a `dst_ip_port` lookup "network|port".
    assert matcher.find("dst_ip_port", "10.1.2.3/32|23") == ("rfc1918", "10.0.0.0/8")
    assert matcher.find("src_ip_port", "fe80::1/128|4444") is not None
    assert matcher.find("dst_ip_port", "8.8.4.4/32|53") is None


def test_suppressed_indicators_are_kept_but_not_used(runtime: Runtime) -> None:
    private = indicator("[ipv4-addr:value = '192.168.1.10']")
    evil = indicator("[ipv4-addr:value = '45.33.32.156']")
    with runtime.session() as s:
        intel.import_stix(s, bundle(private), location="a", actor=SYSTEM, clock=runtime.clock)
        names = intel.load_warninglists(
            s, shared("misp-warninglists/lists"), actor=SYSTEM, clock=runtime.clock
        )
        intel.import_stix(s, bundle(evil), location="b", actor=SYSTEM, clock=runtime.clock)
        shown = intel.get_indicator(s, private["id"], now=NOW)
        index = intel.indicator_index(s, NOW)
    assert len(names) == 19 and "rfc1918" in names
    assert (shown.suppressed_by, shown.suppressed_entry) == ("rfc1918", "192.168.0.0/16")
    assert not shown.active
    assert index.size == 1  # only the unsuppressed one


def test_ageing_defaults_and_overrides() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    until = start + timedelta(days=3)
    assert expires_at(valid_from=start, valid_until=until, modified=None, kinds=["ipv4"]) == until
    assert expires_at(
        valid_from=start, valid_until=None, modified=None, kinds=["ipv4"]
    ) == start + timedelta(days=30)
    assert expires_at(
        valid_from=start, valid_until=None, modified=None, kinds=["sha256"]
    ) == start + timedelta(days=365)
    # several kinds: the shortest decay; a caller's mapping overrides the default
    assert expires_at(
        valid_from=start, valid_until=None, modified=None, kinds=["sha256", "domain"]
    ) == start + timedelta(days=90)
    assert expires_at(
        valid_from=start, valid_until=None, modified=None, kinds=["ipv4"], decay_days={"ipv4": 7}
    ) == start + timedelta(days=7)
    # a newer version counts from its `modified`
    later = start + timedelta(days=20)
    assert expires_at(
        valid_from=start, valid_until=None, modified=later, kinds=["ipv4"]
    ) == later + timedelta(days=30)


def test_expired_indicators_leave_the_index(runtime: Runtime) -> None:
    ip = indicator("[ipv4-addr:value = '198.51.100.7']")  # valid_from 2026-11-01: 30 days
    ended = indicator("[domain-name:value = 'old.example']", valid_until="2026-11-02T00:00:00Z")
    with runtime.session() as s:
        intel.import_stix(s, bundle(ip, ended), location="a", actor=SYSTEM, clock=runtime.clock)
        assert intel.indicator_index(s, NOW).size == 1
        assert intel.indicator_index(s, NOW + timedelta(days=10)).size == 0
        assert intel.apply_ageing(s, decay_days={"ipv4": 60}) == 1
        assert intel.indicator_index(s, NOW + timedelta(days=10)).size == 1
