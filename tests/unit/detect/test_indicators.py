"""Indicator matching: STIX patterns compiled once into typed lookups (what cannot be compiled is
refused with the reason), matched over event frames by joins — exact values, IPv4 networks of any
prefix, domains with their subdomains, IPv6, ports — with the same answers for 10 or 100,000
indicators."""

from __future__ import annotations

import ipaddress
import json
import random

import polars as pl
import pytest

from civicshield.detect.indicators import IndicatorIndex, Lookup, PatternError, compile_pattern
from tests.conftest import SHARED_DATA

SHA = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("[ipv4-addr:value = '198.51.100.7']", [Lookup("ipv4", "198.51.100.7/32")]),
        ("[ipv4-addr:value ISSUBSET '10.0.0.0/8']", [Lookup("ipv4", "10.0.0.0/8")]),
        ("[ipv4-addr:value = '203.0.113.0/24']", [Lookup("ipv4", "203.0.113.0/24")]),
        ("[ipv6-addr:value = '2001:DB8::1']", [Lookup("ipv6", "2001:db8::1/128")]),
        ("[domain-name:value = 'Evil.Example.']", [Lookup("domain", "evil.example")]),
        ("[url:value = 'http://x4z9arb.cn/4712']", [Lookup("url", "http://x4z9arb.cn/4712")]),
        (f"[file:hashes.'SHA-256' = '{SHA.upper()}']", [Lookup("sha256", SHA)]),
        ("[email-addr:value = 'Boss@City.example']", [Lookup("email", "boss@city.example")]),
        ("[network-traffic:dst_port = 23]", [Lookup("port", 23)]),
        ("[network-traffic:dst_ref.value = '192.0.2.66']", [Lookup("ipv4", "192.0.2.66/32")]),
        (
            "[domain-name:value = 'a.example' OR domain-name:value = 'b.example'] OR "
            "[url:value = 'http://it\\'s.example/']",
            [Lookup("domain", "a.example"), Lookup("domain", "b.example"),
             Lookup("url", "http://it's.example/")],
        ),
    ],
)  # fmt: skip
def test_compiles_the_patterns_cities_meet(pattern: str, expected: list[Lookup]) -> None:
    assert list(compile_pattern(pattern)) == expected


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[ipv4-addr:value = '1.2.3.4' AND ipv4-addr:value = '5.6.7.8']", "AND inside"),
        ("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [url:value = 'x']", "FOLLOWEDBY"),
        ("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS", "WITHIN"),
        ("[process:name = 'evil.exe']", "not an observable we match yet"),
        ("[domain-name:value LIKE '%.example']", "operator LIKE"),
        ("[ipv4-addr:value = '999.1.1.1']", "not an IP address"),
        ("[file:hashes.MD5 = 'abc']", "not a MD5 hash"),
        ("[network-traffic:dst_port = 70000]", "not a port number"),
        ("ipv4-addr:value = '1.2.3.4'", r"starts with \["),
        ("[url:value = 'unterminated]", "cannot read the pattern at character"),
    ],
)
def test_what_cannot_be_compiled_is_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason):
        compile_pattern(pattern)


INDICATORS = {
    "ind-host": "[ipv4-addr:value = '192.0.2.66']",
    "ind-net24": "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "ind-net16": "[ipv4-addr:value ISSUBSET '198.51.0.0/16']",
    "ind-domain": "[domain-name:value = 'kraken-iot.example']",
    "ind-url": "[url:value = 'http://192.0.2.45/bins/kraken.arm7']",
    "ind-hash": f"[file:hashes.'SHA-256' = '{SHA}']",
    "ind-v6": "[ipv6-addr:value ISSUBSET '2001:db8:bad::/48']",
    "ind-port": "[network-traffic:dst_port = 48101]",
}
EVENTS = pl.DataFrame(
    {
        "source.ip": ["10.10.1.5", "198.51.100.9", "2001:db8:bad::7", "10.10.1.6", "bogus"],
        "destination.ip": ["192.0.2.66", "10.0.0.1", "2001:db8::1", "192.0.2.67", None],
        "destination.port": [23, 443, 53, 48101, None],
        "dns.question.name": [None, "cnc.kraken-iot.example.", "kraken-iot.example.org", None,
                              "KRAKEN-IOT.EXAMPLE"],
        "url.full": [None, None, None, "http://192.0.2.45/bins/kraken.arm7", None],
        "file.hash.sha256": [None, None, None, SHA.upper(), None],
    },
    schema_overrides={"destination.port": pl.Int32},
)  # fmt: skip


def _index(extra: int = 0) -> IndicatorIndex:
    items = [(i, compile_pattern(p)) for i, p in INDICATORS.items()]
    rng = random.Random(7)
    for n in range(extra):  # unrelated indicators in 100.64.0.0/10, which no event uses
        address = f"100.{rng.randrange(64, 128)}.{n % 256}.{rng.randrange(256)}"
        net = ipaddress.ip_network(f"{address}/{(32, 20, 22, 24)[n % 4]}", strict=False)
        pattern = f"[ipv4-addr:value ISSUBSET '{net}']"
        if n % 5 == 0:
            pattern = f"[domain-name:value = 'd{n}.bad.example']"
        items.append((f"x{n}", compile_pattern(pattern)))
    return IndicatorIndex.build(items)


def _hits(index: IndicatorIndex) -> set[tuple[int, str, str]]:
    found = index.match(EVENTS)
    return {(i, ind, f) for i, ind, f, _ in found.iter_rows()}


EXPECTED = {
    (0, "ind-host", "destination.ip"),
    (1, "ind-net24", "source.ip"),  # both networks hold 198.51.100.9
    (1, "ind-net16", "source.ip"),
    (1, "ind-domain", "dns.question.name"),  # a subdomain, trailing dot and all
    (2, "ind-v6", "source.ip"),
    (3, "ind-port", "destination.port"),
    (3, "ind-url", "url.full"),
    (3, "ind-hash", "file.hash.sha256"),  # hashes compare without case
    (4, "ind-domain", "dns.question.name"),  # domains too
}  # "kraken-iot.example.org" is not a subdomain; 192.0.2.67 and "bogus" match nothing


def test_matches_exact_values_networks_subdomains_ipv6_and_ports() -> None:
    assert _hits(_index()) == EXPECTED


def test_a_hundred_thousand_indicators_give_the_same_answers() -> None:
    big = _index(extra=100_000)
    assert big.size == 100_000 + len(INDICATORS)
    assert _hits(big) == EXPECTED


def _patterns(value: object) -> list[str]:
    if isinstance(value, dict):
        here = [value["pattern"]] if value.get("type") == "indicator" else []
        return here + [p for v in value.values() for p in _patterns(v)]
    if isinstance(value, list):
        return [p for v in value for p in _patterns(v)]
    return []


def test_the_indicators_of_the_shared_taxii_fixture_compile() -> None:
    path = SHARED_DATA / "intel" / "taxii-medallion-fixture" / "default_data.json"
    if not path.is_file():
        pytest.skip(f"shared TAXII fixture not available: {path}")
    patterns = _patterns(json.loads(path.read_text(encoding="utf-8")))
    assert len(patterns) == 4
    kinds = {lk.kind for p in patterns for lk in compile_pattern(p)}
    assert kinds == {"url", "sha256"}
