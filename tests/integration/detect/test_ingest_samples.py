"""Issue 5: every network/log sample ingests into the event store with nothing quarantined,
the format is sniffed, and a mixed good/bad file keeps every good record."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from civicshield.detect.eventstore import EventStore, hunt
from civicshield.detect.ingest import ingest_file, replay, sniff
from civicshield.detect.quarantine import QuarantineStore
from tests.conftest import SHARED_DATA

NETLOGS = SHARED_DATA / "netlogs"
pytestmark = pytest.mark.skipif(not NETLOGS.is_dir(), reason=f"needs {NETLOGS}")

EXPECTED = {  # format, records (counted in the files and their SOURCE.md)
    "cef/radiflow-isid.log": ("cef", 36),
    "cef/citrix-adc.log": ("cef", 6),
    "netflow-nfdump/flows.csv": ("nfdump", 349),
    "suricata-eve/eve/dnp3_dnp3.json": ("eve", 98),
    "syslog/network-devices.log": ("syslog", 140),
    "syslog/rfc5424-wrccdc2018.log": ("syslog", 500),
    "zeek-wrccdc2018/tsv/modbus.log": ("zeek", 268),
    "zeek-wrccdc2018/json/modbus.json": ("zeek", 268),
    "zeek-zat/tsv/http.log": ("zeek", 150),
}


def samples() -> list[Path]:
    files = [
        p
        for p in sorted(NETLOGS.rglob("*"))
        if p.is_file() and p.suffix in (".log", ".json", ".csv")
    ]
    return [*files, SHARED_DATA / "netflow" / "iot23" / "conn.log.labeled.gz"]


@pytest.fixture
def stores(tmp_path: Path) -> tuple[EventStore, QuarantineStore]:
    return EventStore(tmp_path / "events"), QuarantineStore(tmp_path / "quarantine")


def test_every_sample_ingests_with_nothing_quarantined(
    stores: tuple[EventStore, QuarantineStore],
) -> None:
    store, quarantine = stores
    total = 0
    for path in samples():
        report = ingest_file(path, store, quarantine)
        assert report.quarantined == 0, f"{path}: {list(quarantine.entries())[:3]}"
        assert report.read == report.stored > 0
        rel = str(path.relative_to(NETLOGS)) if path.is_relative_to(NETLOGS) else path.name
        if rel in EXPECTED:
            assert (report.format, report.read) == EXPECTED[rel], rel
        total += report.stored
    counted = hunt(store, "SELECT count(*) AS n FROM events")["n"][0]
    assert counted == total
    modbus = hunt(
        store,
        'SELECT "destination.port" AS port FROM events WHERE "event.dataset" = \'zeek.modbus\'',
    )
    assert modbus.height == 2 * 268 and set(modbus["port"].drop_nulls().to_list()) == {502}


def test_a_mixed_file_keeps_every_good_record_and_replay_after_a_fix(
    tmp_path: Path, stores: tuple[EventStore, QuarantineStore]
) -> None:
    store, quarantine = stores
    good = (NETLOGS / "syslog" / "rfc5424-wrccdc2018.log").read_bytes().splitlines()[:10]
    mixed = tmp_path / "mixed.log.gz"
    lines = [*good[:5], b"<999>not a priority", *good[5:], b"<13"]
    mixed.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    assert sniff(mixed) == "syslog"
    report = ingest_file(mixed, store, quarantine)
    assert (report.read, report.stored, report.quarantined) == (12, 10, 2)
    positions = sorted(e.position for e in quarantine.entries())
    assert positions == ["line 12", "line 6"]
    again = replay("syslog", store, quarantine)  # nothing fixed: both stay
    assert (again.recovered, again.still_bad) == (0, 2)
    assert len(list(quarantine.entries())) == 2


MAPPINGS = Path(__file__).resolve().parents[3] / "src/civicshield/detect/readers/mappings"


@pytest.mark.parametrize(
    ("pattern", "mapping", "rows"),
    [
        ("nsl_kdd/KDDTrain+_20Percent.txt.gz", "nsl_kdd", 25_192),  # SOURCE.md: 25,192 rows
        ("unsw_nb15/*.csv.gz", "unsw_nb15", 6_000),
        ("ton_iot_telemetry/*.csv.gz", "ton_iot", 156_669),
    ],
)
def test_labelled_flow_datasets_ingest_with_their_mappings(
    stores: tuple[EventStore, QuarantineStore], pattern: str, mapping: str, rows: int
) -> None:
    from civicshield.detect.readers.mapped import load_mapping

    store, quarantine = stores
    field_mapping = load_mapping(MAPPINGS / f"{mapping}.toml")
    reports = [
        ingest_file(p, store, quarantine, fmt="mapped", mapping=field_mapping)
        for p in sorted((SHARED_DATA / "netflow").glob(pattern))
    ]
    assert sum(r.stored for r in reports) == rows
    assert sum(r.quarantined for r in reports) == 0
    if mapping == "nsl_kdd":  # SOURCE.md: 13,449 normal, neptune 8,282
        counts = dict(
            hunt(store, "SELECT attack, count(*) AS n FROM events GROUP BY attack").rows()
        )
        assert (counts["normal"], counts["neptune"]) == (13_449, 8_282)
