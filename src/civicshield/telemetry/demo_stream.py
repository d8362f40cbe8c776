"""The demo city, alive: alerts from its three days of history, then a minute of synthetic
telemetry every minute through the real ingest path, with an attack now and then.

`demo_alerts` runs the live rule set over the demo telemetry once, when the demo is loaded
(batch ids `demo:<dataset>`, so loading again adds nothing). `stream_minute` is the
`telemetry.demo_stream` job: when the demo city is loaded (its marker file is in the event
store) and streaming is on (`CIVICSHIELD_DEMO_STREAM`, on by default outside production), it
generates the last minute of ordinary traffic (Zeek conn/dns/http/modbus as a sensor writes it,
Suricata EVE) and, on some minutes, an attack burst: a camera brute force (Suricata alerts),
a Modbus write from public Wi-Fi, or an IoT payload download. The lines go through `intake`
like any sensor's, so ingest health, the spool and continuous detection all see them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicshield import alerts, intel
from civicshield.core import Settings
from civicshield.core.clock import Clock
from civicshield.detect.live import evaluate_live, live_rules
from civicshield.detect.readers.base import ReadResult
from civicshield.detect.segmentation import WINDOW_SECONDS as SEGMENT_WINDOW
from civicshield.detect.segmentation import violation_matches
from civicshield.jobs import JobRegistry
from civicshield.telemetry._demo_city import C2, City, build_city
from civicshield.telemetry._demo_traffic import modbus_write, normal_traffic
from civicshield.telemetry._demo_zeek import Logs
from civicshield.telemetry.demo import MARKER, TELEMETRY_SEED, WIFI_CLIENT
from civicshield.telemetry.intake import intake
from civicshield.telemetry.paths import event_store
from civicshield.telemetry.stream import DAY, correlation_hits_of

__all__ = ["demo_alerts", "stream_minute"]

_SCALE_PER_MINUTE = 2  # ordinary traffic: a few dozen events a minute
_ATTACK_EVERY = 7  # minutes; which attack depends on the minute


def demo_alerts(
    session: Session, settings: Settings, results: list[ReadResult], *, clock: Clock
) -> list[str]:
    """Alerts from the demo history (what continuous detection would have raised)."""
    live = live_rules(settings)
    created = 0
    for result in results:
        # the whole history is one batch here (and already stored: no read-back)
        matches = evaluate_live(live, result.frame, result.dataset)
        hits = correlation_hits_of(live)
        for part, suffix, window in (
            (matches.filter(~hits), "", settings.alert_window_seconds),
            (matches.filter(hits), "/correlation", max(settings.alert_window_seconds, DAY)),
        ):
            if part.height:
                done = alerts.record_matches(
                    session, part, batch_id=f"demo:{result.dataset}{suffix}", clock=clock,
                    window_seconds=window, samples=settings.alert_sample_events,
                    rule_paths=live.paths,
                )  # fmt: skip
                created += len(done.created)
        created += _intel_alerts(session, settings, result, clock=clock)
        denied = violation_matches(result.frame, result.dataset, settings.data_dir)
        if settings.segmentation_enabled and denied.height:
            done = alerts.record_matches(
                session, denied, batch_id=f"demo:{result.dataset}/segmentation", clock=clock,
                window_seconds=max(settings.alert_window_seconds, SEGMENT_WINDOW),
                samples=settings.alert_sample_events, kind="segmentation",
            )  # fmt: skip
            created += len(done.created)
    notes = [f"demo alerts: {created} raised by {len(live.ruleset.rules)} rules over the history"]
    if live.note:
        notes.append(f"demo alerts use CivicShield's own rules only: {live.note}")
    return notes


def _intel_alerts(session: Session, settings: Settings, result: ReadResult, *, clock: Clock) -> int:
    """Indicator hits in the history (the demo peers' botnet indicators), with sightings."""
    hits = intel.indicator_matches(session, result.frame, result.dataset, now=clock.now())
    if hits.height == 0:
        return 0
    done = alerts.record_matches(
        session, hits, batch_id=f"demo:{result.dataset}/intel", clock=clock,
        window_seconds=max(settings.alert_window_seconds, DAY),
        samples=settings.alert_sample_events,
        kind="intel",
    )  # fmt: skip
    intel.record_sightings(session, hits, now=clock.now(), settings=settings)
    return len(done.created)


def _attack(logs: Logs, city: City, rng: random.Random, now: datetime, minute: int) -> str:
    kind = (minute // _ATTACK_EVERY) % 3
    at = now - timedelta(seconds=30)
    if kind == 0:  # the sweep comes first: its writes six minutes later land in this minute
        modbus_write(logs, city, now - timedelta(minutes=7), WIFI_CLIENT)
        return "modbus-write"
    cam = rng.choice([c for c in city.cameras if c.public_ip] or city.cameras)
    if kind == 1:
        for n in range(6):
            attacker = rng.choice(C2.attackers)
            logs.conn(at + timedelta(seconds=n), attacker, cam.public_ip or cam.ip, 23, sent=40)
            logs.alert(at + timedelta(seconds=n), attacker, cam.public_ip or cam.ip, 23, 9100010,
                       "DEMO SCAN telnet/SSH brute force against an IoT device",
                       "Attempted Administrator Privilege Gain", 2)  # fmt: skip
        return "camera-brute-force"
    cid = logs.conn(at, cam.ip, C2.loader, 80, service="http", sent=120, received=58_112)
    logs.http(at, cid, cam.ip, C2.loader, C2.loader, C2.payload, "Wget",
              size=58_112, mime="application/x-executable")  # fmt: skip
    logs.alert(at, cam.ip, C2.loader, 80, 9100011,
               "DEMO TROJAN Mirai-like ELF payload download by an IoT device",
               "A Network Trojan was detected", 1)  # fmt: skip
    return "iot-payload-download"


def _until(logs: Logs, now: datetime) -> None:
    """Keep only what has happened by `now` (a flow's end or a camera's next stream may lie
    after it)."""
    cutoff = now.timestamp()
    for log, rows in logs.zeek.items():
        logs.zeek[log] = [r for r in rows if float(r["ts"]) <= cutoff]
    logs.eve = [(at, event) for at, event in logs.eve if at <= now]


def stream_minute(
    session: Session, settings: Settings, *, registry: JobRegistry, clock: Clock
) -> dict[str, object]:
    """One minute of the demo city's telemetry into ingest (see the module docstring)."""
    if not settings.demo_stream or not (event_store(settings).root / MARKER).exists():
        return {"streamed": 0, "reason": "the demo city is not loaded or streaming is off"}
    now = clock.now().replace(microsecond=0)
    minute = int(now.timestamp() // 60)
    rng = random.Random(minute)  # noqa: S311 - demo data, reproducible per minute
    city = build_city(random.Random(TELEMETRY_SEED))  # noqa: S311 - the history's city
    logs = Logs(rng)
    normal_traffic(logs, city, now - timedelta(minutes=1), now, _SCALE_PER_MINUTE)
    attack = _attack(logs, city, rng, now, minute) if minute % _ATTACK_EVERY == 0 else ""
    _until(logs, now)
    streamed = 0
    opened = now - timedelta(minutes=1)
    for log in ("conn", "dns", "http", "modbus"):
        lines = logs.zeek_lines(log, opened)
        report = intake(
            session, settings, registry=registry, clock=clock, kind="demo",
            source=f"zeek-sensor/{log}", lines=lines, fmt="zeek", force=True,
        )  # fmt: skip
        streamed += report.accepted
    eve = logs.eve_lines()
    if eve:
        report = intake(
            session, settings, registry=registry, clock=clock, kind="demo",
            source="suricata-sensor", lines=eve, fmt="eve", force=True,
        )  # fmt: skip
        streamed += report.accepted
    return {"streamed": streamed, "attack": attack}
