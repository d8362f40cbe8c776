"""The city rule pack, rule by rule: each new rule fires on constructed events that show its
attack and stays quiet on look-alike ordinary events; where the shared samples hold the attack,
it fires on them too. Events go through the real readers (`ingest.parse_lines`), so the field
names are the ones Zeek, Suricata and syslog really give; correlation rules run over their base
rules' matches with the engine's `correlate`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.detect import load_rules
from civicshield.detect.engine import compile_rules
from civicshield.detect.engine.correlation import (
    CompiledCorrelation,
    compile_correlations,
    correlate,
)
from civicshield.detect.engine.mappings import mapping_named
from civicshield.detect.engine.model import CompiledRuleSet
from civicshield.detect.ingest import parse_lines
from civicshield.detect.live import evaluate_batch
from civicshield.detect.readers.base import ReadResult
from civicshield.detect.sigma.ruleset import rule_pack_dir
from tests.conftest import SHARED_DATA

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
PREFIX = "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d"
NETLOGS = SHARED_DATA / "netlogs"


@cache
def pack() -> tuple[CompiledRuleSet, list[CompiledCorrelation]]:
    report = load_rules([rule_pack_dir()])
    assert not report.problems, report.problems
    ruleset = compile_rules(report.rules, mapping_named("combined"))
    correlations, rejected = compile_correlations(report.rules)
    assert not rejected, rejected
    return ruleset, correlations


def rid(n: int) -> str:
    return f"{PREFIX}{n:02d}"


# -- building events through the readers ---------------------------------------------------------
def zeek(path: str, rows: Sequence[dict[str, Any]]) -> list[ReadResult]:
    """Zeek JSON lines (`LogAscii::use_json`) of log `path`, one per row, a second apart."""
    lines = []
    for n, row in enumerate(rows):
        ts = (T0 + timedelta(seconds=row.pop("_at", n))).timestamp()
        lines.append(json.dumps({"_path": path, "ts": ts, "uid": f"C{n}", **row}).encode())
    return parse_lines("zeek", list(enumerate(lines, 1)), source="test")


def eve(event_type: str, rows: Sequence[dict[str, Any]]) -> list[ReadResult]:
    lines = []
    for n, row in enumerate(rows):
        stamp = (T0 + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
        lines.append(json.dumps({"timestamp": stamp, "event_type": event_type, **row}).encode())
    return parse_lines("eve", list(enumerate(lines, 1)), source="test")


def syslog(messages: Sequence[str]) -> list[ReadResult]:
    lines = [m.encode() for m in messages]
    return parse_lines("syslog", list(enumerate(lines, 1)), source="test")


def conn(orig: str, resp: str, port: int, **more: Any) -> dict[str, Any]:
    row = {"id.orig_h": orig, "id.orig_p": 40000, "id.resp_h": resp, "id.resp_p": port}
    return {"proto": "tcp", "conn_state": "SF", "duration": 1.5, **row, **more}


def fired(results: Sequence[ReadResult]) -> dict[str, int]:
    """Rule id -> matches over the events (every rule of the pack, base rules included)."""
    ruleset, _ = pack()
    counts: dict[str, int] = {}
    for result in results:
        assert not result.quarantined, result.quarantined
        found = evaluate_batch(ruleset, result.frame, result.dataset)
        for rule_id in found.get_column("rule_id").to_list():
            counts[rule_id] = counts.get(rule_id, 0) + 1
    return counts


def correlated(results: Sequence[ReadResult]) -> dict[str, int]:
    """Correlation rule id -> alerts over the events' base-rule matches."""
    ruleset, correlations = pack()
    fields = sorted({f for c in correlations for b in c.base_rules for f in c.fields(b)})
    parts = []
    for result in results:
        found = evaluate_batch(ruleset, result.frame, result.dataset)
        if not found.height:
            continue
        rows = found.get_column("event_index")
        events = result.frame.select(
            pl.col("@timestamp").gather(rows).alias("time"),
            *(pl.col(f).gather(rows).alias(f) for f in fields if f in result.frame.columns),
        )
        keyed = found.select("rule_id").with_columns(
            pl.format("{}:{}", pl.lit(result.dataset), rows.cast(pl.String)).alias("event_key")
        )
        parts.append(pl.concat([keyed, events], how="horizontal"))
    if not parts:
        return {}
    matches = pl.concat(parts, how="diagonal_relaxed")
    matches = matches.with_columns(  # every field a correlation reads, as text
        pl.col(f).cast(pl.String) if f in matches.columns else pl.lit(None, pl.String).alias(f)
        for f in fields
    )
    alerts = correlate(correlations, matches)
    return dict(alerts.group_by("rule_id").len().iter_rows())


# -- single-event rules: (rule, positive events, negative events) --------------------------------
CAMERA, WIFI, ENG, SCADA = "10.10.4.21", "10.60.118.77", "10.50.250.12", "10.20.1.5"
PLC, SIGNAL, OUTSIDE = "10.20.3.40", "10.11.2.8", "192.0.2.44"
LONG = "a3f9" * 12

CASES: dict[int, tuple[list[ReadResult], list[ReadResult]]] = {
    5: (
        zeek(
            "conn",
            [
                conn(OUTSIDE, "203.0.113.31", 23, conn_state="RSTO", duration=2.1),
                conn(OUTSIDE, "203.0.113.31", 22, duration=3.0),
            ],
        ),
        zeek(
            "conn",
            [
                conn(OUTSIDE, "203.0.113.31", 23, conn_state="S0", duration=None),
                conn(OUTSIDE, "203.0.113.31", 22, duration=600.0),
                conn(ENG, CAMERA, 23, duration=2.0),
                conn(OUTSIDE, "203.0.113.31", 443, duration=2.0),
            ],
        ),
    ),
    7: (
        zeek(
            "http",
            [
                {
                    "id.orig_h": OUTSIDE,
                    "id.resp_h": CAMERA,
                    "username": "admin",
                    "status_code": 401,
                    "uri": "/",
                }
            ],
        ),
        zeek(
            "http",
            [
                {
                    "id.orig_h": OUTSIDE,
                    "id.resp_h": CAMERA,
                    "username": "ana.lopez",
                    "status_code": 401,
                    "uri": "/",
                },
                {"id.orig_h": OUTSIDE, "id.resp_h": CAMERA, "status_code": 200, "uri": "/"},
            ],
        ),
    ),
    9: (
        zeek("conn", [conn(CAMERA, "192.0.2.45", 80), conn(CAMERA, "198.19.7.7", 23)]),
        zeek(
            "conn",
            [
                conn(CAMERA, "198.18.50.1", 123, proto="udp"),
                conn(CAMERA, "10.80.0.5", 554),
                conn(ENG, "192.0.2.45", 80),
            ],
        ),
    ),
    11: (
        zeek(
            "conn",
            [
                conn(WIFI, PLC, 502),
                conn("10.50.1.9", "10.30.0.4", 20000),
                conn(OUTSIDE, "10.11.0.3", 2404),
                conn(WIFI, "10.50.9.9", 47808, proto="udp"),
            ],
        ),
        zeek("conn", [conn(ENG, PLC, 502), conn(SCADA, PLC, 502), conn(WIFI, PLC, 503)]),
    ),
    12: (
        eve(
            "flow",
            [
                {
                    "src_ip": WIFI,
                    "src_port": 40000,
                    "dest_ip": PLC,
                    "dest_port": 502,
                    "proto": "TCP",
                    "app_proto": "modbus",
                }
            ],
        ),
        eve(
            "flow",
            [
                {
                    "src_ip": ENG,
                    "src_port": 40000,
                    "dest_ip": PLC,
                    "dest_port": 502,
                    "proto": "TCP",
                },
                {
                    "src_ip": WIFI,
                    "src_port": 40000,
                    "dest_ip": PLC,
                    "dest_port": 443,
                    "proto": "TCP",
                },
            ],
        ),
    ),
    13: (
        zeek(
            "modbus",
            [
                {"id.orig_h": ENG, "id.resp_h": PLC, "func": "PROGRAM_UNITY"},
                {"id.orig_h": ENG, "id.resp_h": PLC, "func": "FIRMWARE_REPLACEMENT"},
            ],
        ),
        zeek(
            "modbus",
            [
                {"id.orig_h": SCADA, "id.resp_h": PLC, "func": f}
                for f in ("READ_HOLDING_REGISTERS", "WRITE_SINGLE_REGISTER", "unknown-100")
            ],
        ),
    ),
    14: (
        eve(
            "modbus",
            [
                {
                    "src_ip": ENG,
                    "dest_ip": PLC,
                    "dest_port": 502,
                    "modbus": {"id": 1, "request": {"unit_id": 1, "function_raw": 90}},
                }
            ],
        ),
        eve(
            "modbus",
            [
                {
                    "src_ip": ENG,
                    "dest_ip": PLC,
                    "dest_port": 502,
                    "modbus": {
                        "id": 1,
                        "request": {"unit_id": 1, "function_raw": 3, "function_code": "RdHoldRegs"},
                    },
                }
            ],
        ),
    ),
    15: (
        zeek(
            "dnp3",
            [
                {"id.orig_h": SCADA, "id.resp_h": PLC, "fc_request": f}
                for f in ("COLD_RESTART", "STOP_APPL", "OPEN_FILE")
            ],
        ),
        zeek(
            "dnp3",
            [
                {"id.orig_h": SCADA, "id.resp_h": PLC, "fc_request": f, "fc_reply": "RESPONSE"}
                for f in ("READ", "WRITE", "DIRECT_OPERATE")
            ],
        ),
    ),
    16: (
        eve(
            "dnp3",
            [
                {
                    "src_ip": SCADA,
                    "dest_ip": PLC,
                    "dest_port": 20000,
                    "dnp3": {"type": "request", "application": {"function_code": 13}},
                }
            ],
        ),
        eve(
            "dnp3",
            [
                {
                    "src_ip": SCADA,
                    "dest_ip": PLC,
                    "dest_port": 20000,
                    "dnp3": {"type": "request", "application": {"function_code": 1}},
                },
                {
                    "src_ip": PLC,
                    "dest_ip": SCADA,
                    "dest_port": 4000,  # a response numbered 13
                    "dnp3": {"type": "response", "application": {"function_code": 13}},
                },
            ],
        ),
    ),
    17: (
        zeek("notice", [{"note": "Scan::Port_Scan", "src": WIFI, "msg": "scanned 40 ports"}]),
        zeek(
            "notice",
            [
                {"note": "Scan::Port_Scan", "src": OUTSIDE, "msg": "scanned 40 ports"},
                {"note": "SSL::Invalid_Server_Cert", "src": WIFI, "msg": "bad cert"},
            ],
        ),
    ),
    18: (
        zeek("conn", [conn(WIFI, PLC, 502), conn(WIFI, "10.50.3.3", 445)]),
        zeek(
            "conn",
            [
                conn(WIFI, "10.50.0.2", 53, proto="udp"),
                conn(WIFI, "198.18.10.10", 443),
                conn(WIFI, "172.16.0.10", 443),
                conn(WIFI, "10.60.101.4", 8080),
            ],
        ),
    ),
    20: (
        zeek(
            "dns",
            [
                {"id.orig_h": CAMERA, "query": f"{LONG}.t.kraken-iot.example", "qtype_name": "A"},
                {
                    "id.orig_h": CAMERA,
                    "query": ".".join(["abcdefghijklmnopqrstuvwxyz"] * 5),
                    "qtype_name": "A",
                },
            ],
        ),
        zeek(
            "dns",
            [
                {"id.orig_h": CAMERA, "query": "firmware.hikvision.com", "qtype_name": "A"},
                {"id.orig_h": CAMERA, "query": "a" * 39 + ".example", "qtype_name": "A"},
            ],
        ),
    ),
    21: (
        zeek(
            "dns",
            [{"id.orig_h": CAMERA, "query": "x.example", "qtype_name": q} for q in ("TXT", "NULL")],
        ),
        zeek(
            "dns",
            [
                {"id.orig_h": CAMERA, "query": "x.example", "qtype_name": q}
                for q in ("A", "AAAA", "MX")
            ],
        ),
    ),
    23: (
        zeek(
            "ntp",
            [
                {
                    "id.orig_h": OUTSIDE,
                    "id.resp_h": "10.50.0.2",
                    "id.resp_p": 123,
                    "version": 2,
                    "mode": 7,
                }
            ],
        ),
        zeek(
            "ntp",
            [
                {
                    "id.orig_h": CAMERA,
                    "id.resp_h": "10.50.0.2",
                    "id.resp_p": 123,
                    "version": 4,
                    "mode": m,
                }
                for m in (3, 4)
            ],
        ),
    ),
    24: (
        zeek("conn", [conn(OUTSIDE, "10.50.0.2", 123, proto="udp", resp_bytes=44_000)]),
        zeek(
            "conn",
            [
                conn(CAMERA, "198.18.50.1", 123, proto="udp", resp_bytes=48),
                conn(OUTSIDE, "10.50.0.2", 443, resp_bytes=44_000),
            ],
        ),
    ),
    25: (
        zeek(
            "snmp",
            [
                {
                    "id.orig_h": OUTSIDE,
                    "id.resp_h": "203.0.113.40",
                    "community": "public",
                    "get_requests": 1,
                    "set_requests": 0,
                }
            ],
        ),
        zeek(
            "snmp",
            [
                {"id.orig_h": "10.50.1.20", "id.resp_h": SIGNAL, "community": "public"},
                {"id.orig_h": OUTSIDE, "id.resp_h": "203.0.113.40", "community": "x9Tq"},
            ],
        ),
    ),
    26: (
        zeek(
            "snmp",
            [{"id.orig_h": WIFI, "id.resp_h": SIGNAL, "community": "private", "set_requests": 3}],
        ),
        zeek(
            "snmp",
            [
                {"id.orig_h": ENG, "id.resp_h": SIGNAL, "set_requests": 3},
                {"id.orig_h": WIFI, "id.resp_h": SIGNAL, "set_requests": 0, "get_requests": 5},
                {"id.orig_h": WIFI, "id.resp_h": "10.50.1.20", "set_requests": 1},
            ],
        ),
    ),
    27: (
        syslog(
            [
                "<134>Nov 23 03:05:00 signal-0412 ctrl[88]: timing plan changed: plan 3 by local",
                "<134>Nov 23 03:06:00 signal-0412 ctrl[88]: Database download complete from "
                "10.50.250.12",
            ]
        ),
        syslog(
            [
                "<189>12: cab-sw-14: Nov 23 03:00:01: %SYS-5-CONFIG_I: Configured from console "
                "by admin on vty0 (10.50.250.12)",
                "<134>Nov 23 03:05:00 signal-0412 ctrl[88]: detector 4 fault cleared",
            ]
        ),
    ),
}


@pytest.mark.parametrize("number", sorted(CASES))
def test_rule_fires_on_its_attack(number: int) -> None:
    positive, _ = CASES[number]
    events = sum(r.frame.height for r in positive)
    assert fired(positive).get(rid(number)) == events


@pytest.mark.parametrize("number", sorted(CASES))
def test_rule_stays_quiet_on_look_alikes(number: int) -> None:
    _, negative = CASES[number]
    assert sum(r.frame.height for r in negative) > 0
    assert rid(number) not in fired(negative)


# -- correlation rules: (rule, a burst that should raise it, a pattern that should not) ----------
def spread(rows: list[dict[str, Any]], seconds: float) -> list[dict[str, Any]]:
    """The rows `seconds` apart (as the `_at` offsets `zeek` reads)."""
    return [{**row, "_at": n * seconds} for n, row in enumerate(rows)]


def guesses(n: int, seconds: float) -> list[dict[str, Any]]:
    return spread(
        [
            conn(
                OUTSIDE,
                f"203.0.113.{30 + i % 3}",
                (23, 2323, 22)[i % 3],
                conn_state="RSTO",
                duration=1.0,
            )
            for i in range(n)
        ],
        seconds,
    )


def logins(n: int, seconds: float) -> list[dict[str, Any]]:
    return spread(
        [
            {
                "id.orig_h": OUTSIDE,
                "id.resp_h": f"10.10.4.{i}",
                "username": "admin",
                "status_code": 401,
                "uri": "/",
            }
            for i in range(n)
        ],
        seconds,
    )


def iot_out(n: int, seconds: float) -> list[dict[str, Any]]:
    return spread([conn(CAMERA, f"198.19.3.{i}", 23, conn_state="S0") for i in range(n)], seconds)


def sweep(n: int, seconds: float) -> list[dict[str, Any]]:
    return spread([conn(WIFI, f"10.20.3.{i}", 502, conn_state="REJ") for i in range(n)], seconds)


def txt(names: list[str], seconds: float) -> list[dict[str, Any]]:
    return spread([{"id.orig_h": CAMERA, "query": q, "qtype_name": "TXT"} for q in names], seconds)


UNIQUE = [f"{i:04x}a9c3.t.kraken-iot.example" for i in range(40)]
CORRELATIONS: dict[int, tuple[list[ReadResult], list[ReadResult]]] = {
    6: (zeek("conn", guesses(12, 20)), zeek("conn", guesses(12, 60))),  # 4 min vs 11 min
    8: (zeek("http", logins(5, 30)), zeek("http", logins(4, 30))),
    10: (zeek("conn", iot_out(12, 200)), zeek("conn", iot_out(12, 450))),  # 9 in any hour
    19: (zeek("conn", sweep(10, 5)), zeek("conn", sweep(9, 5))),
    22: (zeek("dns", txt(UNIQUE, 2)), zeek("dns", txt(["_spf.example.org"] * 40, 2))),
}


@pytest.mark.parametrize("number", sorted(CORRELATIONS))
def test_correlation_fires_on_a_burst(number: int) -> None:
    positive, _ = CORRELATIONS[number]
    assert correlated(positive).get(rid(number)) == 1


@pytest.mark.parametrize("number", sorted(CORRELATIONS))
def test_correlation_stays_quiet_below_its_threshold(number: int) -> None:
    _, negative = CORRELATIONS[number]
    assert fired(negative)  # the base rule did match: only the correlation's condition failed
    assert rid(number) not in correlated(negative)


def test_every_new_rule_has_a_positive_and_a_negative_test() -> None:
    ids = {rid(n) for n in [*CASES, *CORRELATIONS]}
    ruleset, correlations = pack()
    pack_ids = {r.rule.id for r in ruleset.rules} | {c.rule.id for c in correlations}
    new = {i for i in pack_ids if int(i[-2:]) >= 5}
    assert new == ids


# -- the shared real samples ---------------------------------------------------------------------
def sample(relative: str) -> Path:
    path = NETLOGS / relative
    if not path.is_file():
        pytest.skip(f"shared sample {path} is absent (../shared/data is not checked out)")
    return path


def sample_results(fmt: str, relative: str) -> list[ReadResult]:
    data = sample(relative).read_bytes().splitlines()
    return parse_lines(fmt, list(enumerate(data, 1)), source=relative)


def test_suricata_dnp3_sample_restarts_and_stop_are_found() -> None:
    # the sample's requests: cold restart (13) twice, warm restart (14) twice, stop (18) 4 times
    results = [
        r
        for r in sample_results("eve", "suricata-eve/eve/dnp3_dnp3.json")
        if r.dataset == "suricata.dnp3"
    ]
    assert fired(results).get(rid(16)) == 8


def test_suricata_dnp3_sample_flows_come_from_outside_the_engineering_zone() -> None:
    results = [
        r
        for r in sample_results("eve", "suricata-eve/eve/dnp3_dnp3.json")
        if r.dataset == "suricata.flow"
    ]
    flows = sum(r.frame.height for r in results)
    assert flows > 0 and fired(results).get(rid(12)) == flows  # 10.0.0.8 -> 10.0.0.3:20000


def test_network_device_syslog_sample_router_changes_are_not_controller_changes() -> None:
    # routers' and switches' own configuration messages (Cisco, Arista, IOS XR) are routine IT
    results = sample_results("syslog", "syslog/network-devices.log")
    text = sample("syslog/network-devices.log").read_text(encoding="utf-8", errors="replace")
    assert "%SYS-5-CONFIG_I" in text and sum(r.frame.height for r in results) > 0
    assert rid(27) not in fired(results)


def test_wrccdc_modbus_sample_has_no_programming_functions() -> None:
    # only function codes 100 and 34 (unknown to Zeek): the programming rule must stay quiet
    results = sample_results("zeek", "zeek-wrccdc2018/json/modbus.json")
    assert sum(r.frame.height for r in results) > 0
    assert rid(13) not in fired(results)


def test_the_pack_passes_rules_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICSHIELD_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CIVICSHIELD_DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    result = CliRunner().invoke(app, ["rules", "validate", "--rules", str(rule_pack_dir())])
    assert result.exit_code == 0, result.output
    files = len(list(rule_pack_dir().glob("*.yml")))
    assert f"{files} files, {files} rules, 0 problems" in result.output
