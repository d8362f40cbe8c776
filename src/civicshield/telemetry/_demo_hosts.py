# ruff: noqa: E501 - the tables of message templates read better one entry a line
"""Syslog from the demo city's network gear (Cisco IOS XE, MikroTik RouterOS, FortiGate) and
Windows Security / System / Sysmon events of its servers and laptops, including scenario 3
(ransomware precursor on the city's file server). Lines are written as the devices send them;
Windows events as flat JSON with the native names of the shared EVTX samples (`Channel`,
`EventID`, `Image`, `CommandLine`, ...)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from civicshield.telemetry._demo_city import C2, City, Host
from civicshield.telemetry._demo_traffic import when

__all__ = ["WindowsLog", "gear_syslog", "ransomware_precursor", "windows_background"]

SYSMON = "Microsoft-Windows-Sysmon/Operational"
_SYSMON_PROVIDER = {"Provider_Name": "Microsoft-Windows-Sysmon", "Channel": SYSMON}
_SECURITY = {"Provider_Name": "Microsoft-Windows-Security-Auditing", "Channel": "Security"}
_PAYLOAD = "C:\\ProgramData\\svcupd.exe"
_CISCO = ("%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: netadmin] [Source: {ip}] [localport: 22]",
          "%SYS-5-CONFIG_I: Configured from console by netadmin on vty0 ({ip})",
          "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet1/0/{n}, changed state to up",
          "%LINK-3-UPDOWN: Interface GigabitEthernet1/0/{n}, changed state to down",
          "%DOT1X-5-SUCCESS: Authentication successful for client (0040.8c{n:02d}.1a2b) on Interface Gi1/0/{n}")  # fmt: skip
_MIKROTIK = ("system,info,account user admin logged in from {ip} via winbox",
             "system,info,account user admin logged out from {ip} via winbox",
             "dhcp,info dhcp-wifi assigned {wifi} to 3C:22:FB:{n:02X}:41:0E",
             "interface,info ether{n} link up (speed 1G, full duplex)")  # fmt: skip


def _bsd(at: datetime) -> str:
    return f"{at:%b} {at.day:2d} {at:%H:%M:%S}"


def _forti(at: datetime, fw: Host, serial: int, src: str, dst: str, port: int, **kw: str) -> str:
    fields = {"srcintf": '"internal"', "dstintf": '"wan1"', "action": "close", "policyid": "12"}
    fields |= kw
    rest = " ".join(f"{k}={v}" for k, v in fields.items())
    return (f'<189>date={at:%Y-%m-%d} time={at:%H:%M:%S} devname="{fw.name}" '
            f'devid="FG200F{serial:010d}" logid="0000000013" type="traffic" subtype="forward" '
            f'level="notice" vd="root" srcip={src} srcport={30000 + port % 999} dstip={dst} '
            f"dstport={port} proto=6 {rest} duration=12 sentbyte=1840 rcvdbyte=5230")  # fmt: skip


def gear_syslog(
    rng: random.Random, city: City, start: datetime, end: datetime, scale: int,
    *, wifi_client: str, plc: Host, cameras: list[Host], botnet_at: datetime, modbus_at: datetime,
) -> list[tuple[datetime, str]]:  # fmt: skip
    """Routine messages from every router and firewall, and the firewall's view of scenarios 1
    and 2 (inbound telnet to the cameras accepted; the Wi-Fi to SCADA session accepted)."""
    out: list[tuple[datetime, str]] = []
    routers = city.group("rtr", "corp-it")
    cisco = [r for r in routers if r.vendor == "Cisco"]
    mikrotik = [r for r in routers if r.vendor == "MikroTik"]
    forti = [f for f in city.group("fw", "city-dmz") if f.vendor == "Fortinet"]
    admins = [h.ip for h in city.group("srv", "corp-it")]
    for n in range(scale):
        at, x = when(rng, start, end), rng.randrange(1, 48)
        ip, wifi = rng.choice(admins), rng.choice(city.wifi_clients)
        if n % 3 == 0:
            dev = rng.choice(cisco)
            text = rng.choice(_CISCO).format(ip=ip, n=x)
            out.append(
                (at, f"<189>{n}: {dev.name}: *{_bsd(at)}.{at.microsecond // 1000:03d} UTC: {text}")
            )
        elif n % 3 == 1:
            dev = rng.choice(mikrotik)
            text = rng.choice(_MIKROTIK).format(ip=ip, wifi=wifi, n=x % 8 + 1)
            out.append((at, f"<134>{_bsd(at)} {dev.name} {text}"))
        else:
            fw = rng.choice(forti)
            dst, port = rng.choice(
                [("198.18.20.5", 443), ("198.18.10.10", 443), ("198.18.40.2", 80)]
            )
            out.append((at, _forti(at, fw, forti.index(fw), ip, dst, port, service='"HTTPS"')))
    edge = forti[0]
    for index, cam in enumerate(cameras):
        moment = botnet_at + timedelta(minutes=42 + 3 * index)
        line = _forti(
            moment,
            edge,
            0,
            C2.attackers[index],
            cam.public_ip or cam.ip,
            23,
            srcintf='"wan1"',
            dstintf='"traffic-iot"',
            action="accept",
            policyid="31",
            policyname='"CCTV-vendor-remote"',
            service='"TELNET"',
        )
        out.append((moment, line))
    at = modbus_at + timedelta(minutes=6)
    line = _forti(
        at,
        edge,
        0,
        wifi_client,
        plc.ip,
        502,
        srcintf='"wifi-publica"',
        dstintf='"water-scada"',
        action="accept",
        policyid="47",
        policyname='"temp-any-any-soporte"',
        service='"Modbus"',
    )
    out.append((at, line))
    return out


class WindowsLog:
    """Flat Windows events (one JSON object a line), numbered like an exporter would."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.events: list[tuple[datetime, dict[str, Any]]] = []
        self._record = 100_000

    def add(self, at: datetime, host: Host, base: dict[str, Any], **fields: Any) -> None:
        self._record += 1
        event = {**fields, **base, "EventRecordID": self._record, "Computer": host.fqdn,
                 "SystemTime": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}  # fmt: skip
        self.events.append((at, event))

    def process(
        self, at: datetime, host: Host, image: str, cmd: str, parent: str, user: str
    ) -> None:
        self.add(at, host, {**_SYSMON_PROVIDER, "EventID": 1, "Level": 4, "Task": 1},
                 UtcTime=f"{at:%Y-%m-%d %H:%M:%S.%f}"[:-3], ProcessId=self.rng.randrange(800, 9000),
                 Image=image, CommandLine=cmd, ParentImage=parent, User=user,
                 IntegrityLevel="High", CurrentDirectory="C:\\Windows\\system32\\")  # fmt: skip

    def lines(self) -> list[tuple[int, bytes]]:
        ordered = sorted(self.events, key=lambda item: item[0])
        return [(n, orjson.dumps(e)) for n, (_, e) in enumerate(ordered, start=1)]


_ROUTINE = (("C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p"),
            ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", '"chrome.exe" --type=renderer'),
            ("C:\\Windows\\System32\\taskhostw.exe", "taskhostw.exe"),
            ("C:\\Windows\\explorer.exe", "C:\\Windows\\Explorer.EXE"))  # fmt: skip


def windows_background(log: WindowsLog, city: City, start: datetime, end: datetime, n: int) -> None:
    rng = log.rng
    hosts = [h for h in city.workstations if h.zone != "public-wifi"]
    for _ in range(n):
        at, host = when(rng, start, end), rng.choice(hosts)
        user = f"CIUDAD\\{rng.choice(('ana.lopez', 'jorge.ruiz', 'svc_backup', 'maria.garcia'))}"
        kind = rng.random()
        if kind < 0.45:
            log.add(
                at,
                host,
                {**_SECURITY, "EventID": 4624, "Level": 0, "Task": 12544},
                TargetUserName=user.split("\\")[1],
                TargetDomainName="CIUDAD",
                LogonType=3,
                IpAddress=rng.choice(city.workstations).ip,
                AuthenticationPackageName="Kerberos",
            )
        elif kind < 0.5:
            log.add(
                at,
                host,
                {**_SECURITY, "EventID": 4625, "Level": 0, "Task": 12544},
                TargetUserName=user.split("\\")[1],
                LogonType=3,
                Status="0xc000006d",
                IpAddress=rng.choice(city.workstations).ip,
            )
        else:
            image, cmd = rng.choice(_ROUTINE)
            log.process(at, host, image, cmd, "C:\\Windows\\System32\\services.exe", user)


def ransomware_precursor(log: WindowsLog, city: City, at: datetime) -> Host:
    """Scenario 3 on the file server: an RDP logon with a stolen service account, a new service
    from ProgramData, backups and shadow copies deleted, then files renamed en masse."""
    rng, server = log.rng, city.file_server
    source = city.group("srv", "corp-it")[5]
    cmd = "C:\\Windows\\System32\\cmd.exe"
    for n in range(25):
        log.add(
            at + timedelta(seconds=2 * n),
            server,
            {**_SECURITY, "EventID": 4625, "Level": 0},
            TargetUserName="svc_backup",
            LogonType=10,
            Status="0xc000006a",
            IpAddress=source.ip,
        )
    at += timedelta(minutes=1)
    log.add(
        at,
        server,
        {**_SECURITY, "EventID": 4624, "Level": 0, "Task": 12544},
        TargetUserName="svc_backup",
        TargetDomainName="CIUDAD",
        LogonType=10,
        IpAddress=source.ip,
    )
    at += timedelta(minutes=4)
    log.add(at, server, {"Provider_Name": "Service Control Manager", "Channel": "System",
                         "EventID": 7045, "Level": 4},
            ServiceName="WinSvcUpdate", ImagePath=_PAYLOAD, ServiceType="user mode service",
            StartType="auto start", AccountName="LocalSystem")  # fmt: skip
    steps = (("C:\\Windows\\System32\\vssadmin.exe", "vssadmin.exe delete shadows /all /quiet"),
             ("C:\\Windows\\System32\\wbem\\WMIC.exe", "wmic shadowcopy delete"),
             ("C:\\Windows\\System32\\wbadmin.exe", "wbadmin delete catalog -quiet"),
             ("C:\\Windows\\System32\\bcdedit.exe", "bcdedit /set {default} recoveryenabled No"))  # fmt: skip
    for image, line in steps:
        at += timedelta(seconds=rng.randrange(5, 30))
        log.process(at, server, image, line, cmd, "NT AUTHORITY\\SYSTEM")
    at += timedelta(minutes=2)
    folders = ("Finanzas", "Catastro", "RecursosHumanos", "Juridico", "Agua")
    for n in range(400):
        name = f"D:\\Compartido\\{folders[n % 5]}\\documento_{n:04d}.docx.kraken"
        log.add(
            at + timedelta(milliseconds=250 * n),
            server,
            {**_SYSMON_PROVIDER, "EventID": 11},
            Image=_PAYLOAD,
            TargetFilename=name,
            ProcessId=6612,
        )
    log.add(
        at + timedelta(seconds=101),
        server,
        {**_SYSMON_PROVIDER, "EventID": 11},
        Image=_PAYLOAD,
        TargetFilename="D:\\Compartido\\LEEME_RECUPERAR_ARCHIVOS.txt",
    )
    return server
