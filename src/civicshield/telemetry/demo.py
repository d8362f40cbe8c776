"""The demo city's telemetry: three days of synthetic Zeek, Suricata, syslog and Windows events in
the event store, with three attack scenarios an analyst can hunt for.

Everything is generated from a seeded `random.Random`, with times relative to the clock's "now"
(the three days before it), over the addresses and names of the demo inventory
(`assets.demo.demo_assets`). The lines are written in each sensor's own format and parsed by the
real readers (`parse_zeek_lines`, `parse_eve_lines`, `parse_syslog_lines`; Windows JSON by
`read_json_objects`, as `civicshield ingest --format json` does), so the store holds exactly
what ingest would store. One difference: the generic JSON ingest leaves Windows events without
ECS columns, so the demo fills `@timestamp` (SystemTime), `host.name` (Computer), `user.name`
and `source.ip` (IpAddress); otherwise the events would be filed under the day they were stored.

Scenarios (times before "now"; see `SCENARIOS`):
1. Camera botnet, 60 h ago: telnet/SSH brute force from 192.0.2.11-30 on the six cameras of
   zone traffic-iot that have a public address; four fall, fetch `/bins/kraken.arm7` from
   192.0.2.45, then beacon every ~10 min (DNS `cnc.kraken-iot.example`, telnet to 192.0.2.66)
   and scan the internet on port 23 until "now".
2. Modbus write, 31 h ago: public Wi-Fi client 10.60.118.77 sweeps the water SCADA PLCs on 502
   and writes holding registers (function 6 and 16) of the Modicon PLC plc-water-scada-019; the
   FortiGate shows a temporary any-any policy allowed it.
3. Ransomware precursor, 5 h ago, on srv-corp-it-004 (the file server): RDP brute force and
   logon as svc_backup from srv-corp-it-006, service `WinSvcUpdate` from C:\\ProgramData,
   `vssadmin delete shadows /all /quiet`, `wmic shadowcopy delete`, `wbadmin delete catalog
   -quiet`, `bcdedit ... recoveryenabled No`, then 400 files renamed to `*.kraken` and a note.

Idempotence: when done, a marker file `.demo-telemetry.json` is written at the store's root; a
later run finds it and adds nothing (remove it and the demo partitions to load again).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from civicshield.detect.eventstore import EventStore
from civicshield.detect.readers.base import ReadResult, with_ecs
from civicshield.detect.readers.eve import parse_eve_lines, read_json_objects
from civicshield.detect.readers.syslog import SyslogClock, parse_syslog_lines
from civicshield.detect.readers.zeek import parse_zeek_lines
from civicshield.telemetry._demo_city import build_city
from civicshield.telemetry._demo_hosts import (
    WindowsLog,
    gear_syslog,
    ransomware_precursor,
    windows_background,
)
from civicshield.telemetry._demo_traffic import camera_botnet, modbus_write, normal_traffic
from civicshield.telemetry._demo_zeek import Logs

__all__ = [
    "DEMO_DAYS",
    "MARKER",
    "SCENARIOS",
    "TELEMETRY_SEED",
    "DemoTelemetry",
    "demo_frames",
    "load_demo_telemetry",
]

TELEMETRY_SEED = 20240613
DEMO_DAYS = 3
MARKER = ".demo-telemetry.json"
WIFI_CLIENT = "10.60.118.77"
# name -> hours before "now" when it starts
SCENARIOS: dict[str, int] = {"camera-botnet": 60, "modbus-write": 31, "ransomware-precursor": 5}
_SCALE = 1600  # about 100,000 events in all


@dataclass
class DemoTelemetry:
    """What `load_demo_telemetry` did."""

    store: Path
    loaded: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    results: list[ReadResult] = field(default_factory=list)  # what was stored, by dataset

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _windows_frame(lines: list[tuple[int, bytes]]) -> ReadResult:
    frames, bad = read_json_objects(lines, source="demo/windows.jsonl", group=None)
    assert not bad, bad  # our own lines: a failure here is a bug in the generator
    frame = next(iter(frames.values()))
    stamp = pl.col("SystemTime").str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us")
    exprs = {
        "@timestamp": stamp.dt.replace_time_zone("UTC"),
        "host.name": pl.col("Computer"),
        "user.name": pl.coalesce(pl.col("TargetUserName"), pl.col("User")),
        "source.ip": pl.col("IpAddress"),
    }
    return ReadResult("windows", with_ecs(frame, exprs, "windows"))


def _generate(now: datetime) -> tuple[Logs, list[tuple[datetime, str]], WindowsLog]:
    rng = random.Random(TELEMETRY_SEED)  # noqa: S311 - reproducible demo data, not secrets
    city = build_city(rng)
    end = now.replace(microsecond=0)
    start = end - timedelta(days=DEMO_DAYS)
    at = {name: end - timedelta(hours=hours) for name, hours in SCENARIOS.items()}
    logs = Logs(rng)
    normal_traffic(logs, city, start, end, _SCALE)
    cameras = camera_botnet(logs, city, at["camera-botnet"], end)
    plc = modbus_write(logs, city, at["modbus-write"], WIFI_CLIENT)
    syslog = gear_syslog(
        rng, city, start, end, _SCALE * 3, wifi_client=WIFI_CLIENT, plc=plc, cameras=cameras,
        botnet_at=at["camera-botnet"], modbus_at=at["modbus-write"],
    )  # fmt: skip
    windows = WindowsLog(rng)
    windows_background(windows, city, start, end, _SCALE * 2)
    ransomware_precursor(windows, city, at["ransomware-precursor"])
    return logs, syslog, windows


def demo_frames(now: datetime) -> list[ReadResult]:
    """The demo telemetry for "now" as reader results (one per dataset), nothing quarantined."""
    logs, syslog, windows = _generate(now)
    opened = now - timedelta(days=DEMO_DAYS)
    results: list[ReadResult] = []
    for log in ("conn", "dns", "http", "modbus"):
        results += parse_zeek_lines(logs.zeek_lines(log, opened), source=f"demo/{log}.log")
    results += parse_eve_lines(logs.eve_lines(), source="demo/eve.json")
    ordered = sorted(syslog, key=lambda item: item[0])
    lines = [(n, text.encode()) for n, (_, text) in enumerate(ordered, start=1)]
    results.append(
        parse_syslog_lines(lines, source="demo/syslog.log", clock=SyslogClock(reference=now))
    )
    results.append(_windows_frame(windows.lines()))
    bad = [q for r in results for q in r.quarantined]
    assert not bad, bad[:3]
    # A flow that started just before "now" may end after it: keep only what has happened.
    for result in results:
        result.frame = result.frame.filter(pl.col("@timestamp") <= now)
    return results


def load_demo_telemetry(root: Path, *, now: datetime) -> DemoTelemetry:
    """Write the demo telemetry into the event store at `root`, unless it is already there."""
    out = DemoTelemetry(store=root)
    marker = root / MARKER
    if marker.exists():
        out.notes.append(f"demo telemetry already in {root} ({MARKER}); nothing added")
        return out
    store = EventStore(root)
    out.results = demo_frames(now)
    for result in out.results:
        report = store.write(result.frame, result.dataset, now=now)
        out.counts[result.dataset] = out.counts.get(result.dataset, 0) + report.rows
    summary = {"written_at": now.isoformat(), "seed": TELEMETRY_SEED, "counts": out.counts}
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    tmp.replace(marker)
    out.loaded = True
    parts = ", ".join(f"{name} {count}" for name, count in sorted(out.counts.items()))
    out.notes.append(
        f"demo telemetry: {out.total} events of the last {DEMO_DAYS} days in {root} ({parts}); "
        "scenarios to hunt: camera botnet in traffic-iot (60 h ago), Modbus write to "
        f"plc-water-scada-019 from public Wi-Fi {WIFI_CLIENT} (31 h ago), ransomware precursor "
        "on srv-corp-it-004 (5 h ago); see docs/telemetry-readers.md"
    )
    return out
