"""Segmentation policy: zones (most specific network wins), first-match rules, validation of
overlapping zones and shadowed rules, and the verdicts over constructed and IoT-23 flows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from civicshield.core.errors import Invalid
from civicshield.detect.readers.zeek import read_zeek
from civicshield.detect.segmentation import (
    Evaluator,
    Policy,
    check_policy,
    load_policy,
    parse_policy,
)
from tests.conftest import SHARED_DATA

ZONES: list[dict[str, Any]] = [
    {"id": "corp", "name": "Corporate", "cidrs": ["10.50.0.0/16"]},
    {"id": "eng", "name": "Engineering", "cidrs": ["10.50.250.0/24"]},
    {"id": "scada", "name": "Water SCADA", "cidrs": ["10.20.0.0/16", "fd00:20::/32"]},
    {"id": "wifi", "name": "Public Wi-Fi", "cidrs": ["10.60.0.0/16"]},
    {"id": "internet", "name": "Internet", "cidrs": ["0.0.0.0/0", "::/0"]},
]
RULES: list[dict[str, Any]] = [
    {"id": "eng-modbus", "from": "eng", "to": "scada", "protocols": ["tcp"], "ports": ["502"],
     "action": "allow", "reason": "engineering polls PLCs"},
    {"id": "ot-only-eng", "to": "scada", "action": "deny", "severity": "critical",
     "reason": "OT only from engineering"},
    {"id": "wifi-web", "from": "wifi", "to": "internet", "protocols": ["tcp", "udp"],
     "ports": ["53", "80", "443", "1024-2048"], "action": "allow", "reason": "web access"},
]  # fmt: skip


def policy(
    rules: list[dict[str, Any]] = RULES, zones: list[dict[str, Any]] = ZONES, **kw: Any
) -> Policy:
    return parse_policy({"version": "1", "name": "test", "zones": zones, "rules": rules, **kw})


def flows(*rows: tuple[str | None, str | None, str, int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"source.ip": pl.String, "destination.ip": pl.String,
                "network.transport": pl.String, "destination.port": pl.Int32},
        orient="row",
    )  # fmt: skip


def verdicts(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    return frame.select(
        "source.zone", "destination.zone", "segmentation.rule", "segmentation.action"
    ).rows()


def test_most_specific_network_wins_and_unknown_addresses_are_outside() -> None:
    out = Evaluator(policy()).evaluate(
        flows(
            ("10.50.250.9", "10.20.1.1", "tcp", 502),  # engineering, inside corporate's /16
            ("10.50.1.9", "10.20.1.1", "tcp", 502),  # corporate
            ("fd00:20::5", "10.60.0.1", "udp", 53),  # IPv6 SCADA
            ("999.1.1.1", "10.20.1.1", "tcp", 502),  # not an address: outside
            (None, "10.20.1.1", "tcp", 502),  # no address: no verdict
        )
    )
    assert verdicts(out) == [
        ("eng", "scada", "eng-modbus", "allow"),
        ("corp", "scada", "ot-only-eng", "deny"),
        ("scada", "wifi", "(default)", "deny"),
        ("internet", "scada", "ot-only-eng", "deny"),
        (None, "scada", None, None),
    ]
    assert out["segmentation.severity"].to_list()[1] == "critical"


def test_first_match_protocols_ports_ranges_intra_zone_and_default() -> None:
    ev = Evaluator(policy(default="allow", intra_zone="deny"))
    out = ev.evaluate(
        flows(
            ("10.50.250.9", "10.20.1.1", "udp", 502),  # wrong protocol: next rule denies
            ("10.50.250.9", "10.20.1.1", "tcp", 503),  # wrong port: denied
            ("10.60.3.3", "8.8.8.8", "udp", 1500),  # inside a port range
            ("10.60.3.3", "8.8.8.8", "tcp", 2049),  # just past it: the default (allow here)
            ("10.60.3.3", "10.60.9.9", "tcp", 80),  # intra-zone: denied by this policy
            ("10.60.3.3", "8.8.8.8", "icmp", None),  # no port: only "any port" rules match
        )
    )
    assert verdicts(out) == [
        ("eng", "scada", "ot-only-eng", "deny"),
        ("eng", "scada", "ot-only-eng", "deny"),
        ("wifi", "internet", "wifi-web", "allow"),
        ("wifi", "internet", "(default)", "allow"),
        ("wifi", "wifi", "(intra-zone)", "deny"),
        ("wifi", "internet", "(default)", "allow"),
    ]
    assert ev.violations(out.select("source.ip", "destination.ip", "network.transport",
                                    "destination.port")).height == 3  # fmt: skip


def test_rule_order_decides() -> None:
    swapped = [RULES[1], RULES[0], RULES[2]]
    out = Evaluator(policy(swapped)).evaluate(flows(("10.50.250.9", "10.20.1.1", "tcp", 502)))
    assert verdicts(out) == [("eng", "scada", "ot-only-eng", "deny")]
    issues = check_policy(policy(swapped))
    assert [(i.level, i.where) for i in issues if i.where.startswith("rules")] == [
        ("warning", "rules.1")
    ]
    assert "contradicts" in issues[-1].message and "'ot-only-eng'" in issues[-1].message


def test_check_reports_overlapping_zones_bad_networks_unknown_zones_and_repeats() -> None:
    zones = [*ZONES, {"id": "dup", "name": "Dup", "cidrs": ["10.60.0.0/16", "10.70.0.1/16"]}]
    rules = [
        *RULES,
        {"id": "wifi-web-again", "from": "wifi", "to": "internet", "protocols": ["udp"],
         "ports": ["443"], "action": "allow", "reason": "repeat"},
        {"id": "partial", "from": "wifi", "to": "internet", "ports": ["443-3000"],
         "action": "deny", "reason": "only partly covered"},
        {"id": "typo", "from": "wify", "action": "deny", "reason": "unknown zone"},
    ]  # fmt: skip
    found = {(i.level, i.where): i.message for i in check_policy(policy(rules, zones))}
    assert "already in zone 'wifi'" in found[("error", "zones.5.cidrs.0")]
    assert "not a network" in found[("error", "zones.5.cidrs.1")]  # host bits set
    assert "inside 10.50.0.0/16" in found[("warning", "zones.1.cidrs.0")]  # nested: said
    assert "repeats" in found[("warning", "rules.3")]
    assert ("warning", "rules.4") not in found  # a partial overlap is not shadowing
    assert "unknown zone 'wify'" in found[("error", "rules.5.from")]


def test_bad_policies_are_refused_with_the_place() -> None:
    with pytest.raises(Invalid) as bad_port:
        policy([{**RULES[0], "ports": ["70000"]}])
    assert "rule eng-modbus" in bad_port.value.detail and "65535" in bad_port.value.detail
    with pytest.raises(Invalid) as no_reason:
        policy([{k: v for k, v in RULES[0].items() if k != "reason"}])
    assert "rules.0.reason" in no_reason.value.detail


def test_default_city_policy_is_valid_and_catches_the_demo_attacks() -> None:
    city = load_policy()
    assert [i for i in check_policy(city) if i.level == "error"] == []
    out = Evaluator(city).evaluate(
        flows(
            ("10.60.118.77", "10.20.4.4", "tcp", 502),  # scenario 2: Modbus from public Wi-Fi
            ("10.10.7.7", "192.0.2.66", "tcp", 23),  # scenario 1: camera to its C2
            ("10.10.7.7", "10.80.1.10", "tcp", 554),  # camera streams to the C5
            ("10.50.3.3", "198.18.20.7", "tcp", 443),  # office updates
            ("203.0.113.50", "172.16.0.10", "tcp", 443),  # citizens reach the portal
            ("203.0.113.50", "10.50.1.1", "udp", 53),  # the internet is not the city's DNS
        )
    )
    assert out["segmentation.action"].to_list() == ["deny", "deny", "allow", "allow", "allow",
                                                    "deny"]  # fmt: skip
    assert out["segmentation.rule"].to_list()[:2] == ["ot-from-elsewhere", "cameras-isolated"]


def _iot23() -> pl.DataFrame:
    path = SHARED_DATA / "netflow" / "iot23" / "conn.log.labeled.gz"
    if not path.is_file():
        pytest.skip(f"shared IoT-23 sample not available: {path}")
    return pl.concat([r.frame for r in read_zeek(Path(path))])


def test_iot23_flows_iot_devices_may_only_resolve_and_keep_time() -> None:
    """A camera-like policy over real IoT-23 flows: devices may use DNS and NTP and reach the
    internet on HTTPS; the botnets' IRC C2 (6667), telnet scans and port-80 floods are denied."""
    iot = policy(
        [{"id": "iot-dns-ntp", "from": "iot", "to": "internet", "protocols": ["udp", "tcp"],
          "ports": ["53", "123"], "action": "allow", "reason": "resolve and keep time"},
         {"id": "iot-https", "from": "iot", "to": "internet", "protocols": ["tcp"],
          "ports": ["443"], "action": "allow", "reason": "vendor cloud"},
         {"id": "iot-out", "from": "iot", "action": "deny", "reason": "nothing else out"}],
        [{"id": "iot", "name": "IoT", "cidrs": ["192.168.0.0/16"]},
         {"id": "internet", "name": "Internet", "cidrs": ["0.0.0.0/0"]}],
    )  # fmt: skip
    out = Evaluator(iot).evaluate(_iot23())
    assert out.height == 25_803
    malicious = out.filter(pl.col("label") == "Malicious")
    by_port = dict(
        malicious.group_by("destination.port").agg(pl.col("segmentation.action").unique()).rows()
    )
    assert by_port[6667] == ["deny"] and by_port[80] == ["deny"]
    ntp = out.filter((pl.col("destination.port") == 123) & (pl.col("source.zone") == "iot"))
    assert ntp.height > 4000 and set(ntp["segmentation.action"]) == {"allow"}
    denied = out.filter(pl.col("segmentation.action") == "deny")
    # Nearly every malicious flow breaks this policy; benign ones mostly do not.
    assert denied.filter(pl.col("label") == "Malicious").height / malicious.height > 0.95
    assert set(denied["segmentation.rule"]) <= {"iot-out", "(default)"}
