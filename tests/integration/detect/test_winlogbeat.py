"""Mappings end to end: `events.jsonl` rewritten into Winlogbeat shape gives the same (rule,
line) pairs under `WinlogbeatMapping` as the original under the native mapping; SigmaHQ's Linux
rules compile under `LinuxMapping` and real ones fire on constructed Linux events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest

from civicshield.detect import load_rules, select
from civicshield.detect.engine import CompiledRuleSet, compile_rules, evaluate
from civicshield.detect.engine.mappings import LinuxMapping, WinlogbeatMapping
from civicshield.detect.readers import batch_from_lines

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"
EVENTS = DATA / "logs" / "evtx-attack-samples" / "events.jsonl"
WINDOWS_RULES = DATA / "sigma" / "rules" / "windows"
LINUX_RULES = DATA / "sigma" / "rules" / "linux"


def require(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is absent (shared reference data)")


def to_winlogbeat(event: dict[str, Any]) -> dict[str, Any]:
    """A flattened native event as Winlogbeat nests it (`winlog.event_data.Image`, …); every
    value is kept, only its key moves (so keyword rules see the same values)."""
    mapping = WinlogbeatMapping()
    out: dict[str, Any] = {}
    for key, value in event.items():
        *parents, leaf = mapping.field(key).split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        assert leaf not in node, key
        node[leaf] = value
    return out


def pairs(ruleset: CompiledRuleSet, lines: list[tuple[int, bytes]]) -> set[tuple[str, int]]:
    batch = batch_from_lines("events", lines, ruleset.fields, values=ruleset.needs_values)
    assert not batch.bad_lines
    numbers = batch.frame["_line"].to_list()
    matches = evaluate(ruleset, batch.frame)
    return {
        (rule_id, numbers[row])
        for rule_id, row in zip(matches["rule_id"], matches["event_index"], strict=True)
    }


def test_to_winlogbeat_nests_system_and_event_data_fields() -> None:
    event = {"EventID": 1, "Channel": "c", "ProcessID": 4, "ThreadID": 5, "Image": "x"}
    assert to_winlogbeat(event) == {
        "winlog": {
            "event_id": 1,
            "channel": "c",
            "process": {"pid": 4, "thread": {"id": 5}},
            "event_data": {"Image": "x"},
        }
    }


@pytest.mark.slow
def test_winlogbeat_shape_gives_the_same_rule_line_pairs() -> None:
    require(EVENTS, WINDOWS_RULES)
    rules = select(load_rules([WINDOWS_RULES]).rules)
    native = compile_rules(rules)
    winlogbeat = compile_rules(rules, WinlogbeatMapping())
    assert len(winlogbeat.rules) == len(native.rules)
    assert all(f.startswith(("winlog.", "log.", "@", "_")) for f in winlogbeat.fields)

    original: list[tuple[int, bytes]] = []
    rewritten: list[tuple[int, bytes]] = []
    for number, text in enumerate(EVENTS.read_bytes().splitlines(), start=1):
        if text.strip():
            original.append((number, text))
            rewritten.append((number, orjson.dumps(to_winlogbeat(orjson.loads(text)))))
    ours = pairs(native, original)
    theirs = pairs(winlogbeat, rewritten)
    print(f"(rule, line) pairs: native {len(ours)}, winlogbeat {len(theirs)}")
    assert len(ours) > 800  # the shared events fire hundreds of pairs (819+ measured)
    assert theirs == ours


# -- Linux --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_every_sigmahq_linux_rule_compiles_or_has_a_reason() -> None:
    require(LINUX_RULES)
    report = load_rules([LINUX_RULES])
    assert not report.problems
    ruleset = compile_rules(report.rules, LinuxMapping())
    print(f"linux rules: {len(ruleset.rules)} compile, {len(ruleset.unsupported)} do not")
    for item in ruleset.unsupported:
        print(f"  {item}")
    assert len(ruleset.rules) + len(ruleset.unsupported) == len(report.rules)
    assert all(item.reason for item in ruleset.unsupported)
    assert not [u for u in ruleset.unsupported if "not mapped" in u.reason]


# (rule file under rules/linux, rule id, constructed event that it must fire on)
LINUX_CASES = [
    (  # auditd: Linux Network Service Scanning Tools (EXECVE / SYSCALL of nc, nmap, …)
        "auditd/syscall/lnx_auditd_network_service_scanning.yml",
        {"type": "SYSCALL", "exe": "/usr/bin/nmap", "key": "network_connect_4", "syscall": 59},
    ),
    (  # Sysmon for Linux process creation
        "process_creation/proc_creation_lnx_base64_decode.yml",
        {
            "Channel": "Linux-Sysmon/Operational",
            "EventID": 1,
            "Image": "/usr/bin/base64",
            "CommandLine": "base64 -d payload.b64",
        },
    ),
    (  # syslog sshd keyword rule
        "builtin/sshd/lnx_sshd_susp_ssh.yml",
        {
            "facility": "auth",
            "appname": "sshd",
            "procid": "812",
            "message": "Corrupted MAC on input. Disconnecting: Packet corrupt",
        },
    ),
    (  # syslog keyword rule on the daemon facility
        "builtin/syslog/lnx_syslog_susp_named.yml",
        {
            "facility": "daemon",
            "appname": "named",
            "message": "client 10.0.0.5#53: denied AXFR from 10.0.0.5",
        },
    ),
]


@pytest.fixture(scope="module")
def linux_rules() -> dict[str, Any]:
    require(LINUX_RULES)
    return {rule.path: rule for rule in load_rules([LINUX_RULES]).rules}


@pytest.mark.parametrize(("path", "event"), LINUX_CASES, ids=[c[0] for c in LINUX_CASES])
def test_sigmahq_linux_rule_fires_on_constructed_event(
    linux_rules: dict[str, Any], path: str, event: dict[str, Any]
) -> None:
    rule = linux_rules.get(path)
    if rule is None:
        pytest.skip(f"{path} is not in this SigmaHQ tree")
    ruleset = compile_rules([rule], LinuxMapping())
    assert not ruleset.unsupported, ruleset.unsupported
    # the rule's event, plus the same event under another log source (must not fire)
    decoy = {
        "facility": "unknown",
        "appname": "other",
        "type": "NOT_A_RECORD",
        "Channel": "Security",
        "EventID": 4688,
    }
    other = {**{k: v for k, v in event.items() if k not in decoy}, **decoy}
    lines = [(1, json.dumps(event).encode()), (2, json.dumps(other).encode())]
    batch = batch_from_lines("linux", lines, ruleset.fields, values=ruleset.needs_values)
    matches = evaluate(ruleset, batch.frame)
    assert matches.filter(pl.col("rule_id") == rule.id)["event_index"].to_list() == [0]
