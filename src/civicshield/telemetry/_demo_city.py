"""The demo city's network as the telemetry generator sees it: addresses and names taken from the
demo inventory (`assets.demo.demo_assets`), so telemetry and inventory agree, plus the outside
world (benign services, attackers, C2) in reserved ranges that route nowhere.

Outside addresses: benign internet services are in 198.18.0.0/15 (RFC 2544), attackers and C2 in
192.0.2.0/24 (RFC 5737, TEST-NET-1); the inventory's own public addresses are 203.0.113.0/24 and
198.51.100.0/24. Attacker domains use the reserved `.example` TLD (RFC 2606).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime

from civicshield.assets.demo import DEMO_SEED, demo_assets

__all__ = ["BENIGN_DOMAINS", "C2", "City", "Host", "build_city", "epoch", "uid"]


@dataclass(frozen=True)
class Host:
    name: str
    ip: str
    zone: str
    vendor: str
    fqdn: str
    public_ip: str | None = None


@dataclass(frozen=True)
class C2Infra:
    """Scenario 1's outside infrastructure (Mirai-like: telnet C2 and a report port)."""

    attackers: tuple[str, ...] = tuple(f"192.0.2.{n}" for n in range(11, 31))
    loader: str = "192.0.2.45"
    cnc_ip: str = "192.0.2.66"
    report_ip: str = "192.0.2.67"
    cnc_domain: str = "cnc.kraken-iot.example"
    report_domain: str = "report.kraken-iot.example"
    payload: str = "/bins/kraken.arm7"
    cnc_port: int = 23
    report_port: int = 48101


C2 = C2Infra()

# name -> address: what resolvers answer for the city's ordinary outside traffic.
BENIGN_DOMAINS: dict[str, str] = {
    "www.gob.mx": "198.18.10.10",
    "sat.gob.mx": "198.18.10.11",
    "login.microsoftonline.com": "198.18.20.5",
    "outlook.office365.com": "198.18.20.6",
    "download.windowsupdate.com": "198.18.20.7",
    "ctldl.windowsupdate.com": "198.18.20.8",
    "www.google.com": "198.18.30.4",
    "fonts.googleapis.com": "198.18.30.5",
    "update.axis.com": "198.18.40.2",
    "firmware.hikvision.com": "198.18.40.3",
    "pool.ntp.org": "198.18.50.1",
    "api.waze.com": "198.18.60.9",
    "es.wikipedia.org": "198.18.70.3",
    "cdn.jsdelivr.net": "198.18.70.8",
    "portal.ciudad-demo.example": "203.0.113.10",
}


@dataclass
class City:
    hosts: dict[str, list[Host]] = field(default_factory=dict)  # "<prefix>-<zone>" -> hosts
    wifi_clients: list[str] = field(default_factory=list)

    def group(self, prefix: str, zone: str) -> list[Host]:
        return self.hosts.get(f"{prefix}-{zone}", [])

    @property
    def cameras(self) -> list[Host]:
        return self.group("cam", "traffic-iot")

    @property
    def resolvers(self) -> list[Host]:
        return self.group("srv", "corp-it")[:2]  # the domain controllers answer DNS

    @property
    def file_server(self) -> Host:
        return self.group("srv", "corp-it")[3]

    @property
    def workstations(self) -> list[Host]:
        """Inside clients: servers, school laptops, kiosks, clinic servers."""
        picks = [("srv", "corp-it"), ("lap", "school-it"), ("kiosk", "public-wifi")]
        picks.append(("srv", "clinic-it"))
        return [h for p, z in picks for h in self.group(p, z)]


def build_city(rng: random.Random) -> City:
    city = City()
    for item in demo_assets(DEMO_SEED):
        data = item.data
        key = data.name.rsplit("-", 1)[0]
        public = next((ip for ip in data.ips[1:] if not ip.startswith("10.")), None)
        host = Host(
            name=data.name,
            ip=data.ips[0],
            zone=data.zone,
            vendor=data.vendor,
            fqdn=data.hostnames[0] if data.hostnames else data.name,
            public_ip=public,
        )
        city.hosts.setdefault(key, []).append(host)
    taken = {h.ip for hosts in city.hosts.values() for h in hosts}
    while len(city.wifi_clients) < 180:  # phones and laptops on the public Wi-Fi (DHCP)
        ip = f"10.60.{rng.randrange(100, 120)}.{rng.randrange(2, 254)}"
        if ip not in taken and ip not in city.wifi_clients:
            city.wifi_clients.append(ip)
    return city


_UID_CHARS = string.ascii_letters + string.digits


def uid(rng: random.Random, prefix: str = "C") -> str:
    """A Zeek-style connection / file id."""
    number, chars = rng.getrandbits(102), []
    for _ in range(17):  # base 62, as Zeek prints them; one draw instead of seventeen
        number, digit = divmod(number, 62)
        chars.append(_UID_CHARS[digit])
    return prefix + "".join(chars)


def epoch(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"
