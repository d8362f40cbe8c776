"""The demo city's inventory: about 300 assets across every sector, generated deterministically.

A seeded `random.Random` picks versions, addresses and identifiers, so every run builds the same
list; `load_demo_assets` creates the ones whose name is not taken yet (a second run changes
nothing). CPE vendor/product names are spelled as NVD and CISA's vulnrichment spell them, and
each model mixes versions inside published vulnerable ranges with fixed ones, so matching finds
some of them and not others. Public addresses are documentation ranges (RFC 5737).
"""

# The catalogue below is a table, one model a line: long lines read better than wrapped ones.
# ruff: noqa: E501

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.assets.enums import AssetKind, Lifecycle
from civicshield.assets.models import Asset
from civicshield.assets.schemas import AssetCreate, SoftwareItem
from civicshield.assets.service import create_asset
from civicshield.assets.software import upsert_software
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector

__all__ = ["DEMO_SEED", "DemoAsset", "DemoInventory", "demo_assets", "load_demo_assets"]

DEMO_SEED = 20240612
SOFTWARE_SOURCE = "demo"
MAIL_DOMAIN = "ciudad-demo.example"
CENTER = (20.6736, -103.3440)  # the demo city's centre; sites lie within a few km

_IT, _IOT, _OT = AssetKind.IT, AssetKind.IOT, AssetKind.OT
_T, _E, _W, _H = Sector.TRANSPORT, Sector.ENERGY, Sector.WATER, Sector.HEALTH
_G, _P, _ED, _O = Sector.GOVERNANCE, Sector.PUBLIC_SAFETY, Sector.EDUCATION, Sector.OTHER

# zone: (private prefix, owning department, contact mailbox)
ZONES: dict[str, tuple[str, str, str]] = {
    "traffic-iot": ("10.10", "Dirección de Movilidad", "transporte"),
    "traffic-ot": ("10.11", "Dirección de Movilidad", "transporte"),
    "water-scada": ("10.20", "Organismo de Agua Potable", "agua"),
    "energy-scada": ("10.30", "Alumbrado y Energía", "energia"),
    "clinic-it": ("10.40", "Salud Municipal", "salud"),
    "clinic-medical": ("10.41", "Salud Municipal", "biomedica"),
    "city-dmz": ("172.16", "Tecnologías de la Información", "ti"),
    "corp-it": ("10.50", "Tecnologías de la Información", "ti"),
    "public-wifi": ("10.60", "Ciudad Conectada", "wifi"),
    "school-it": ("10.70", "Educación Municipal", "educacion"),
    "safety-it": ("10.80", "Seguridad Ciudadana", "c5"),
}

# Sites per zone: (site, street address); coordinates are derived from the name.
SITES: dict[str, tuple[str, ...]] = {
    "traffic": ("Av. Juárez", "Av. Revolución", "Calz. Independencia", "Blvd. del Sol", "Av. Hidalgo"),
    "water": ("Planta Potabilizadora Norte, Camino al Cerro 1200", "Rebombeo Las Águilas, Calle Pino 45", "Tanque Colinas, Av. Colinas 300"),
    "energy": ("Subestación Oriente, Av. Tecnológico 800", "Parque Solar Municipal, Carretera Sur km 4", "Alumbrado Central, Calle Fresno 12"),
    "clinic": ("Clínica Municipal Centro, Calle Morelos 210", "Clínica Municipal Sur, Av. Patria 1550"),
    "city": ("Palacio Municipal, Plaza de Armas 1", "Centro de Datos Municipal, Calle Reforma 505"),
    "school": ("Escuela Primaria Benito Juárez, Calle Allende 88", "Secundaria Técnica 14, Av. Lázaro Cárdenas 2100", "Biblioteca Pública Central, Calle Libertad 9"),
    "safety": ("Centro de Mando C5, Av. Vallarta 3300", "Comandancia Norte, Calle Obregón 77"),
    "public": ("Plaza de Armas", "Parque Agua Azul", "Mercado Corona", "Terminal de Autobuses", "Jardín del Carmen"),
}  # fmt: skip

# Real OUIs for the vendors whose prefix is well known; others get locally administered MACs.
OUI = {"Axis": "00:40:8c", "Siemens": "00:1b:1b", "Rockwell Automation": "00:1d:9c",
       "Schneider Electric": "00:80:f4", "Moxa": "00:90:e8", "Fortinet": "00:09:0f",
       "Palo Alto Networks": "00:1b:17", "Hikvision": "44:19:b6", "Dahua": "3c:ef:8c",
       "MikroTik": "4c:5e:0c", "Ubiquiti": "fc:ec:da"}  # fmt: skip


@dataclass(frozen=True)
class Model:
    """One product line in the demo city: how many, where, and which versions run."""

    prefix: str
    count: int
    sector: Sector
    zone: str
    site: str
    kind: AssetKind
    vendor: str
    product: str
    cpe: str  # part:vendor:product as NVD spells it
    versions: tuple[str, ...]
    criticality: int
    exposed: float = 0.0  # share reachable from the internet
    tags: tuple[str, ...] = ()
    # Each asset gets one of these components: (vendor, name, version, part:vendor:product).
    software: tuple[tuple[str, str, str, str], ...] = ()
    # The device's hardware CPE, when advisories name firmware "running on" it.
    hardware: str = ""


def _m(*args: object, **kw: object) -> Model:
    return Model(*args, **kw)  # type: ignore[arg-type]


_CLINIC_SW = (
    ("Citrix", "Workspace app", "2311", "a:citrix:workspace_app"),
    ("Microsoft", "SQL Server 2019", "15.0.4355.3", "a:microsoft:sql_server_2019"),
)
_CORP_SW = (
    ("Citrix", "Workspace app", "2402", "a:citrix:workspace_app"),
    ("Ivanti", "Endpoint Manager", "2022", "a:ivanti:endpoint_manager"),
    ("Microsoft", "Exchange Server 2019", "15.2.1544.4", "a:microsoft:exchange_server_2019"),
)

# fmt: off
MODELS: tuple[Model, ...] = (
    _m("cam", 28, _T, "traffic-iot", "traffic", _IOT, "Axis", "Q1786-LE", "o:axis:axis_os", ("10.12.114", "11.5.64", "11.11.73", "12.0.86"), 2, 0.1, ("cctv", "traffic")),
    _m("cam", 18, _T, "traffic-iot", "traffic", _IOT, "Hikvision", "DS-2CD2143G2-I", "o:hikvision:ds-2cd2143g2-i_firmware", ("5.7.3", "5.7.15"), 2, 0.15, ("cctv",)),
    _m("cam", 12, _T, "traffic-iot", "traffic", _IOT, "Dahua", "IPC-HFW8xxx", "o:dahuasecurity:ipc-hf8xxx_firmware", ("2023.11.1", "2024.3.1"), 2, 0.1, ("cctv", "anpr")),
    _m("nvr", 2, _T, "traffic-iot", "traffic", _IOT, "Dahua", "NVR4216-I", "h:dahuasecurity:nvr4216-i", ("2023.10.4",), 3, 0.0, ("cctv", "recorder")),
    _m("tsc", 16, _T, "traffic-ot", "traffic", _OT, "Econolite", "Cobalt ATC", "o:econolite:cobalt_firmware", ("32.64.10", "32.65.20"), 4, 0.0, ("signals",)),
    _m("tsc", 10, _T, "traffic-ot", "traffic", _OT, "Siemens", "Sitraffic sX", "o:siemens:sitraffic_sx_firmware", ("4.2.1", "5.0.3"), 4, 0.0, ("signals",)),
    _m("tsrv", 10, _T, "traffic-ot", "traffic", _OT, "Moxa", "NPort 5150", "a:moxa:nport_5100", ("3.9", "3.11"), 3, 0.0, ("serial",)),
    _m("tsw", 6, _T, "traffic-ot", "traffic", _OT, "Moxa", "EDR-810", "h:moxa:edr-810", ("5.12.20", "5.12.30"), 3),
    _m("plc", 12, _W, "water-scada", "water", _OT, "Siemens", "SIMATIC S7-1200 CPU 1215C", "h:siemens:simatic_s7-1200_cpu", ("4.2.3", "4.6.1"), 5, 0.0, ("plc", "pumps")),
    _m("plc", 6, _W, "water-scada", "water", _OT, "Siemens", "SIMATIC S7-1500 CPU 1511-1 PN", "h:siemens:simatic_s7-1500_cpu", ("1.8.5", "3.1.0"), 5, 0.0, ("plc", "treatment")),
    _m("plc", 6, _W, "water-scada", "water", _OT, "Schneider Electric", "Modicon M340 BMXP341000", "o:schneider-electric:modicon_m340_bmxp341000_firmware", ("3.40", "3.60"), 5, 0.0, ("plc",)),
    _m("plc", 4, _W, "water-scada", "water", _OT, "Rockwell Automation", "CompactLogix 5380", "o:rockwellautomation:compactlogix_5380_firmware", ("34.011", "36.012"), 5, 0.0, ("plc", "dosing")),
    _m("hmi", 6, _W, "water-scada", "water", _OT, "Unitronics", "Vision1210", "o:unitronics:vision1210_firmware", ("-",), 4, 0.3, ("hmi", "booster"), (), "h:unitronics:vision1210"),
    _m("scada", 3, _W, "water-scada", "water", _IT, "Inductive Automation", "Ignition", "a:inductiveautomation:ignition", ("8.1.30", "8.1.42"), 5, 0.0, ("scada", "server")),
    _m("rtu", 14, _E, "energy-scada", "energy", _OT, "Hitachi Energy", "RTU500 (RTU520)", "o:hitachienergy:rtu500_firmware", ("13.2.6.0", "13.4.2.0", "13.6.1.0"), 5, 0.0, ("rtu", "substation")),
    _m("plc", 6, _E, "energy-scada", "energy", _OT, "Rockwell Automation", "ControlLogix 5580", "o:rockwellautomation:controllogix_5580_firmware", ("33.012", "35.011"), 5, 0.0, ("plc",)),
    _m("swr", 6, _E, "energy-scada", "energy", _OT, "Siemens", "RUGGEDCOM RS416", "h:siemens:ruggedcom_rs416", ("4.3.8", "5.7.0"), 4, 0.0, ("switch", "substation")),
    _m("rtu", 6, _E, "energy-scada", "energy", _OT, "Schneider Electric", "Easergy T200I", "o:schneider-electric:easergy_t200i_firmware", ("sc2-04mod-07000100", "sc2-04mod-07000104"), 4, 0.0, ("rtu", "feeder")),
    _m("pv", 8, _E, "energy-scada", "energy", _IOT, "Enphase", "IQ Gateway (Envoy)", "h:enphase:envoy", ("7.0.88", "8.2.4264"), 2, 0.25, ("solar",)),
    _m("hist", 2, _E, "energy-scada", "energy", _IT, "AVEVA", "Historian", "a:aveva:historian", ("2020", "2023"), 4, 0.0, ("scada", "server")),
    _m("srv", 6, _H, "clinic-it", "clinic", _IT, "Microsoft", "Windows Server 2019", "o:microsoft:windows_server_2019", ("10.0.17763.5696",), 4, 0.0, ("server", "ehr"), _CLINIC_SW),
    _m("pacs", 2, _H, "clinic-it", "clinic", _IT, "Philips", "Vue PACS", "a:philips:vue_pacs", ("12.2.6.0", "12.2.8.410"), 5, 0.0, ("pacs", "imaging")),
    _m("pump", 16, _H, "clinic-medical", "clinic", _IOT, "Baxter", "Sigma Spectrum", "o:baxter:sigma_spectrum_firmware", ("8.00.01", "8.01.00"), 5, 0.0, ("infusion", "medical-device")),
    _m("mon", 10, _H, "clinic-medical", "clinic", _IOT, "Baxter", "Welch Allyn Connex Spot Monitor", "o:baxter:welch_allyn_connex_spot_monitor", ("1.52", "1.60"), 4, 0.0, ("medical-device",)),
    _m("us", 3, _H, "clinic-medical", "clinic", _IOT, "GE HealthCare", "Vivid iq", "o:gehealthcare:vivid_iq_firmware", ("204", "206"), 3, 0.0, ("imaging", "medical-device")),
    _m("rtr", 6, _G, "corp-it", "city", _IT, "Cisco", "Catalyst 9300 (IOS XE)", "o:cisco:ios_xe", ("17.3.4a", "17.6.5", "17.9.4a", "17.12.4"), 4, 0.0, ("network", "core")),
    _m("fw", 4, _G, "city-dmz", "city", _IT, "Fortinet", "FortiGate 200F (FortiOS)", "o:fortinet:fortios", ("7.4.0", "7.2.8", "7.4.5"), 5, 1.0, ("firewall", "edge")),
    _m("fw", 2, _G, "city-dmz", "city", _IT, "Palo Alto Networks", "PA-3220 (PAN-OS)", "o:paloaltonetworks:pan-os", ("10.2.0", "11.1.4"), 5, 1.0, ("firewall", "vpn")),
    _m("vpn", 2, _G, "city-dmz", "city", _IT, "Ivanti", "Connect Secure", "a:ivanti:connect_secure", ("9.1R18.5", "22.7R2.3"), 5, 1.0, ("vpn", "remote-access")),
    _m("adc", 2, _G, "city-dmz", "city", _IT, "Citrix", "NetScaler ADC", "a:citrix:netscaler_application_delivery_controller", ("13.1-49.13", "14.1-25.53"), 4, 1.0, ("load-balancer", "portal")),
    _m("web", 4, _G, "city-dmz", "city", _IT, "F5", "BIG-IP LTM", "a:f5:big-ip", ("16.1.3", "17.1.0"), 4, 0.5, ("portal",)),
    _m("rtr", 6, _G, "corp-it", "city", _IT, "MikroTik", "CCR2004 (RouterOS)", "o:mikrotik:routeros", ("6.42", "6.49.6", "7.15.3"), 3, 0.3, ("network", "branch")),
    _m("srv", 8, _G, "corp-it", "city", _IT, "Microsoft", "Windows Server 2022", "o:microsoft:windows_server_2022", ("10.0.20348.2461",), 3, 0.0, ("server",), _CORP_SW),
    _m("ap", 16, _O, "public-wifi", "public", _IOT, "Ubiquiti", "UniFi U6 Pro", "o:ui:unifi_uap_firmware", ("6.5.28", "6.6.65"), 2, 0.0, ("wifi", "public")),
    _m("ap", 8, _ED, "school-it", "school", _IT, "HPE Aruba", "Instant AP 515", "o:arubanetworks:instant", ("8.10.0.6", "8.12.0.1"), 2, 0.0, ("wifi", "school")),
    _m("lap", 20, _ED, "school-it", "school", _IT, "Lenovo", "ThinkPad 11e (Windows 11)", "o:microsoft:windows_11_22h2", ("10.0.22621.3447",), 1, 0.0, ("laptop", "student")),
    _m("kiosk", 6, _O, "public-wifi", "public", _IOT, "Elo", "Kiosk I-Series (Windows 10 IoT)", "o:microsoft:windows_10_21h2", ("10.0.19044.4291",), 1, 0.5, ("kiosk", "public")),
    _m("nvr", 4, _P, "safety-it", "safety", _IOT, "Hikvision", "DS-7616NXI-I2/16P", "h:hikvision:ds-76xxnxi-lx", ("5.01.005", "5.02.008"), 4, 0.0, ("cctv", "recorder")),
    _m("acs", 2, _P, "safety-it", "safety", _IT, "Johnson Controls", "C-CURE 9000", "a:johnsoncontrols:software_house_c-cure_9000", ("2.80", "3.00.3"), 4, 0.0, ("access-control",)),
    _m("cell", 10, _P, "safety-it", "safety", _IOT, "Milesight", "UR32L", "o:milesight:ur32l_firmware", ("32.3.0.5", "32.3.0.7"), 3, 0.6, ("router", "vehicle")),
    _m("fw", 2, _P, "safety-it", "safety", _IT, "Zyxel", "ATP100", "o:zyxel:atp100_firmware", ("5.37", "5.39"), 4, 1.0, ("firewall",)),
)
# fmt: on


@dataclass(frozen=True)
class DemoAsset:
    """One generated asset and the components to put on it."""

    data: AssetCreate
    software: tuple[SoftwareItem, ...] = ()


@dataclass
class DemoInventory:
    """What `load_demo_assets` did."""

    created: list[str] = field(default_factory=list)
    present: int = 0
    software: int = 0


def _cpe(part_vendor_product: str, version: str) -> str:
    # CPE 2.3 formatted string: a literal version, every other attribute ANY.
    return f"cpe:2.3:{part_vendor_product}:{version}:*:*:*:*:*:*:*"


def _mac(rng: random.Random, vendor: str) -> str:
    oui = OUI.get(vendor, f"02:c5:{rng.randrange(256):02x}")  # locally administered
    return oui + "".join(f":{rng.randrange(256):02x}" for _ in range(3))


def _place(rng: random.Random, site: str, index: int) -> tuple[str, float, float]:
    spots = SITES[site]
    spot = spots[index % len(spots)]
    # Street sites (traffic, public spaces) spread along the street; buildings stay put.
    seed = sum(map(ord, spot))
    lat = CENTER[0] + ((seed % 97) - 48) / 1200
    lon = CENTER[1] + ((seed % 89) - 44) / 1100
    if "," not in spot:
        number = rng.randrange(100, 3000, 10)
        lat += rng.uniform(-0.006, 0.006)
        lon += rng.uniform(-0.006, 0.006)
        spot = f"{spot} {number}" if site == "traffic" else spot
    return spot, round(lat, 6), round(lon, 6)


def _asset(rng: random.Random, model: Model, index: int, seq: dict[str, int]) -> DemoAsset:
    prefix, owner, mailbox = ZONES[model.zone]
    key = f"{model.prefix}-{model.zone}"
    seq[key] = seq.get(key, 0) + 1
    name = f"{key}-{seq[key]:03d}"
    version = model.versions[index % len(model.versions)]  # every version appears
    address, lat, lon = _place(rng, model.site, index)
    exposed = rng.random() < model.exposed
    ips = [f"{prefix}.{rng.randrange(1, 250)}.{rng.randrange(2, 254)}"]
    if exposed:
        ips.append(f"{rng.choice(('203.0.113', '198.51.100'))}.{rng.randrange(2, 254)}")
    criticality = max(1, min(5, model.criticality + (1 if exposed else 0)))
    retired = rng.random() < 0.03
    data = AssetCreate(
        name=name,
        sector=model.sector,
        kind=model.kind,
        zone=model.zone,
        vendor=model.vendor,
        product=model.product,
        version="" if version == "-" else version,
        serial=f"{model.prefix.upper()}{rng.randrange(10**7, 10**8)}",
        cpe=_cpe(model.cpe, version),
        ips=ips,
        macs=[_mac(rng, model.vendor)],
        hostnames=[f"{name}.{MAIL_DOMAIN}"],
        address=address,
        latitude=lat,
        longitude=lon,
        owner=owner,
        contact=f"{mailbox}@{MAIL_DOMAIN}",
        criticality=criticality,
        internet_exposed=exposed,
        tags=[*model.tags, "internet" if exposed else "internal"],
        lifecycle=Lifecycle.RETIRED if retired else Lifecycle.ACTIVE,
    )
    software: list[SoftwareItem] = []
    if model.software:
        vendor, product, sw_version, sw_cpe = rng.choice(model.software)
        software.append(
            SoftwareItem(
                vendor=vendor, name=product, version=sw_version, cpe=_cpe(sw_cpe, sw_version)
            )
        )
    if model.hardware:
        cpe = _cpe(model.hardware, "-")
        software.append(
            SoftwareItem(kind="hardware", vendor=model.vendor, name=model.product, cpe=cpe)
        )
    return DemoAsset(data=data, software=tuple(software))


def demo_assets(seed: int = DEMO_SEED) -> list[DemoAsset]:
    """The demo city's assets; the same list for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    seq: dict[str, int] = {}
    return [_asset(rng, model, i, seq) for model in MODELS for i in range(model.count)]


def load_demo_assets(
    session: Session, *, clock: Clock, actor: Actor, seed: int = DEMO_SEED
) -> DemoInventory:
    """Create the demo assets whose name is free; existing ones are left as they are."""
    taken = set(session.scalars(select(Asset.name)))
    result = DemoInventory()
    for item in demo_assets(seed):
        if item.data.name in taken:
            result.present += 1
            continue
        created = create_asset(session, item.data, actor=actor, clock=clock)
        result.created.append(created.name)
        if item.software:
            upsert_software(
                session, created.id, item.software, source=SOFTWARE_SOURCE, actor=actor, clock=clock
            )
            result.software += len(item.software)
    return result
