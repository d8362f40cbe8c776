# ruff: noqa: E501 - the tables of message templates read better one entry a line
"""The demo city's network days: ordinary traffic between zones, scenario 1 (camera botnet) and
scenario 2 (Modbus write from the public Wi-Fi), as Zeek and Suricata rows (`Logs`)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from civicshield.telemetry._demo_city import BENIGN_DOMAINS, C2, City, Host
from civicshield.telemetry._demo_zeek import Logs

__all__ = ["camera_botnet", "modbus_write", "normal_traffic", "when"]

_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Microsoft-CryptoAPI/10.0",
    "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.33",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
)
_URIS = ("/", "/tramites/predial", "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
         "/css/main.css", "/generate_204", "/agua/recibos")  # fmt: skip
_LOCAL_OFFSET = timedelta(hours=-6)  # the demo city's clock (America/Mexico_City)


def when(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment, three times likelier in the city's working hours (08:00-20:00)."""
    span = (end - start).total_seconds()
    while True:
        at = start + timedelta(seconds=rng.random() * span)
        if 8 <= (at + _LOCAL_OFFSET).hour < 20 or rng.random() < 0.33:
            return at


def _lookup(logs: Logs, city: City, at: datetime, client: str, name: str, answer: str) -> None:
    resolver = logs.rng.choice(city.resolvers).ip
    size = logs.rng.randrange(30, 60)
    cid = logs.conn(
        at,
        client,
        resolver,
        53,
        proto="udp",
        service="dns",
        duration=0.01,
        sent=size,
        received=size + 16,
    )
    logs.dns(at, cid, client, resolver, name, answer)


def normal_traffic(logs: Logs, city: City, start: datetime, end: datetime, scale: int) -> None:
    """Web, DNS, file shares, camera streams and SCADA polling; `scale` sets the volume."""
    rng = logs.rng
    inside = [h.ip for h in city.workstations] + city.wifi_clients
    domains = list(BENIGN_DOMAINS.items())
    for _ in range(scale * 12):  # a lookup, then HTTPS or HTTP to the answer
        at, client = when(rng, start, end), rng.choice(inside)
        name, address = rng.choice(domains)
        _lookup(logs, city, at, client, name, address)
        then = at + timedelta(milliseconds=rng.randrange(20, 400))
        if rng.random() < 0.25:
            size = rng.randrange(300, 90_000)
            cid = logs.conn(
                then,
                client,
                address,
                80,
                service="http",
                duration=rng.random(),
                sent=400,
                received=size,
                local_resp=False,
            )
            uri, agent = rng.choice(_URIS), rng.choice(_AGENTS)
            logs.http(then, cid, client, address, name, uri, agent, size=size)
        else:
            logs.conn(
                then,
                client,
                address,
                443,
                service="ssl",
                duration=rng.uniform(0.1, 30),
                sent=rng.randrange(600, 9000),
                received=rng.randrange(900, 400_000),
                local_resp=False,
            )
        if rng.random() < 0.12:
            logs.flow(then, client, address, 443, "TCP", "tls")
    server = city.file_server
    staff = [h.ip for h in city.workstations if h.zone in ("corp-it", "clinic-it")]
    for _ in range(scale * 2):  # SMB to the city's file server, Kerberos/LDAP to the DCs
        at, client = when(rng, start, end), rng.choice(staff)
        logs.conn(
            at,
            client,
            server.ip,
            445,
            service="smb,gssapi",
            duration=rng.uniform(1, 900),
            sent=rng.randrange(2000, 2_000_000),
            received=rng.randrange(2000, 9_000_000),
        )
        logs.conn(
            at,
            client,
            rng.choice(city.resolvers).ip,
            389,
            service="ldap",
            duration=0.2,
            sent=900,
            received=3000,
        )
    _streams_and_polling(logs, city, start, end)
    for _ in range(scale // 6):  # internet background noise: scans of the city's public ranges
        at = start + timedelta(seconds=rng.random() * (end - start).total_seconds())
        src = f"198.19.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        dst = f"{rng.choice(('203.0.113', '198.51.100'))}.{rng.randrange(2, 254)}"
        port = rng.choice((22, 23, 80, 443, 445, 3389, 5060, 8080))
        logs.conn(at, src, dst, port, state=rng.choice(("S0", "REJ")), sent=0)
        if rng.random() < 0.1:
            logs.alert(at, src, dst, port, 9100001, "DEMO SCAN inbound probe of a city address",
                       "Attempted Information Leak", 3)  # fmt: skip


def _hourly(start: datetime, end: datetime, every: timedelta) -> list[datetime]:
    out, at = [], start
    while at < end:
        out.append(at)
        at += every
    return out


def _streams_and_polling(logs: Logs, city: City, start: datetime, end: datetime) -> None:
    rng = logs.rng
    nvrs = city.group("nvr", "traffic-iot")
    cams, scada = city.cameras, city.group("scada", "water-scada")
    plcs = city.group("plc", "water-scada")
    for hour in _hourly(start, end, timedelta(hours=1)):
        for cam in cams:  # the recorders pull each camera's RTSP stream, one long flow an hour
            at = hour + timedelta(seconds=rng.randrange(0, 60))
            logs.conn(
                at,
                rng.choice(nvrs).ip,
                cam.ip,
                554,
                service="rtsp",
                duration=3590.0,
                sent=rng.randrange(40_000, 90_000),
                received=rng.randrange(10**8, 4 * 10**8),
            )
        for plc in plcs:  # SCADA polls: Modbus to Modicon, S7comm to Siemens, CIP to Rockwell
            at = hour + timedelta(seconds=rng.randrange(0, 60))
            port, service = _plc_protocol(plc)
            master = scada[plcs.index(plc) % len(scada)].ip
            cid = logs.conn(
                at,
                master,
                plc.ip,
                port,
                service=service,
                duration=3595.0,
                sent=rng.randrange(90_000, 120_000),
                received=rng.randrange(90_000, 200_000),
            )
            if port == 502:
                logs.modbus(at, cid, master, plc.ip, "READ_HOLDING_REGISTERS")
                if hour.hour % 6 == 0:
                    logs.modbus_event(at, master, plc.ip, 3, "RdHoldRegs")
    for hour in _hourly(start, end, timedelta(hours=4)):
        for cam in cams:  # cameras keep time
            at = hour + timedelta(seconds=rng.randrange(0, 3600))
            logs.conn(
                at,
                cam.ip,
                BENIGN_DOMAINS["pool.ntp.org"],
                123,
                proto="udp",
                service="ntp",
                duration=0.05,
                sent=48,
                received=48,
                local_resp=False,
            )


def _plc_protocol(plc: Host) -> tuple[int, str]:
    if plc.vendor == "Schneider Electric":
        return 502, "modbus"
    return (102, "s7comm") if plc.vendor == "Siemens" else (44818, "enip")


def camera_botnet(logs: Logs, city: City, at: datetime, end: datetime) -> list[Host]:
    """Scenario 1: brute force on the exposed cameras, four fall, fetch a payload, then beacon to
    the C2 and scan the internet for telnet. Returns the compromised cameras."""
    rng = logs.rng
    exposed = [c for c in city.cameras if c.public_ip]
    for attacker in C2.attackers:
        for cam in exposed:
            assert cam.public_ip is not None
            for n in range(12):
                moment = at + timedelta(seconds=rng.randrange(0, 2400))
                port = (23, 2323, 22)[n % 3]
                logs.conn(
                    moment,
                    attacker,
                    cam.public_ip,
                    port,
                    state="RSTO" if port != 22 else "SF",
                    duration=rng.uniform(0.5, 4),
                    sent=rng.randrange(60, 300),
                    received=120,
                )
            logs.alert(at + timedelta(seconds=rng.randrange(0, 2400)), attacker, cam.public_ip, 23,
                       9100010, "DEMO SCAN telnet/SSH brute force against an IoT device",
                       "Attempted Administrator Privilege Gain", 2)  # fmt: skip
    fallen = exposed[:4]
    for index, cam in enumerate(fallen):
        got_in = at + timedelta(minutes=42 + 3 * index)
        assert cam.public_ip is not None
        logs.conn(
            got_in, C2.attackers[index], cam.public_ip, 23, duration=96.0, sent=2100, received=5400
        )
        fetch = got_in + timedelta(seconds=70)
        cid = logs.conn(
            fetch,
            cam.ip,
            C2.loader,
            80,
            service="http",
            duration=1.2,
            sent=180,
            received=58_312,
            local_resp=False,
        )
        logs.http(fetch, cid, cam.ip, C2.loader, C2.loader, C2.payload, "Wget",
                  size=58_112, mime="application/x-executable")  # fmt: skip
        logs.alert(fetch, cam.ip, C2.loader, 80, 9100011,
                   "DEMO TROJAN Mirai-like ELF payload download by an IoT device",
                   "A Network Trojan was detected", 1)  # fmt: skip
        _beacons(logs, city, cam, fetch + timedelta(seconds=30), end)
    return fallen


def _beacons(logs: Logs, city: City, cam: Host, start: datetime, end: datetime) -> None:
    rng = logs.rng
    logs.conn(
        start,
        cam.ip,
        C2.report_ip,
        C2.report_port,
        duration=0.3,
        sent=64,
        received=0,
        local_resp=False,
    )
    at, first = start, True
    while at + timedelta(seconds=640) < end:  # nothing after "now"
        _lookup(logs, city, at, cam.ip, C2.cnc_domain, C2.cnc_ip)
        logs.conn(
            at + timedelta(seconds=1),
            cam.ip,
            C2.cnc_ip,
            C2.cnc_port,
            duration=590.0,
            sent=rng.randrange(80, 200),
            received=rng.randrange(40, 400),
            local_resp=False,
        )
        if first or rng.random() < 0.05:
            logs.alert(at, cam.ip, C2.cnc_ip, C2.cnc_port, 9100012,
                       "DEMO TROJAN Mirai-like C2 beacon from an IoT device",
                       "A Network Trojan was detected", 1)  # fmt: skip
            first = False
        for _ in range(3):  # the bot looks for more victims
            target = f"198.19.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            logs.conn(
                at + timedelta(seconds=rng.randrange(600)),
                cam.ip,
                target,
                23,
                state="S0",
                local_resp=False,
            )
        at += timedelta(seconds=600 + rng.randrange(-20, 20))


def modbus_write(logs: Logs, city: City, at: datetime, client: str) -> Host:
    """Scenario 2: a public Wi-Fi client sweeps the water SCADA zone for port 502, then writes
    holding registers of a Modicon PLC. Returns the PLC."""
    plcs = city.group("plc", "water-scada")
    for n, plc in enumerate(plcs):
        port, _ = _plc_protocol(plc)
        logs.conn(
            at + timedelta(seconds=n),
            client,
            plc.ip,
            502,
            state="SF" if port == 502 else "REJ",
            duration=0.02,
            sent=12,
            received=12,
        )
    target = next(p for p in plcs if _plc_protocol(p)[0] == 502)
    start = at + timedelta(minutes=6)
    cid = logs.conn(
        start, client, target.ip, 502, service="modbus", duration=42.7, sent=640, received=520
    )
    steps = [("READ_COILS", 1, "RdCoils"), ("READ_HOLDING_REGISTERS", 3, "RdHoldRegs"),
             ("WRITE_SINGLE_REGISTER", 6, "WrSingleReg"), ("WRITE_SINGLE_REGISTER", 6, "WrSingleReg"),
             ("WRITE_MULTIPLE_REGISTERS", 16, "WrMultRegs")]  # fmt: skip
    for n, (func, raw, code) in enumerate(steps):
        moment = start + timedelta(seconds=4 + 8 * n)
        logs.modbus(moment, cid, client, target.ip, func)
        logs.modbus_event(moment, client, target.ip, raw, code)
        if raw in (6, 16):
            logs.alert(moment, client, target.ip, 502, 9100020,
                       f"DEMO SCADA Modbus write (function {raw}) from outside the SCADA zone",
                       "Attempted Administrator Privilege Gain", 1,
                       extra={"app_proto": "modbus",
                              "modbus": {"id": 1, "request": {"unit_id": 1, "function_raw": raw,
                                                              "function_code": code}}})  # fmt: skip
    logs.flow(start, client, target.ip, 502, "TCP", "modbus")
    return target
