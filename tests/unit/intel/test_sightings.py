"""Sightings of matched indicators: one per indicator per day, new versions for later hits,
no double count when a batch is replayed; the city's identity stored once; alert levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select
from stix2validator import validate_instance  # type: ignore[import-untyped]

from civicshield import alerts, intel
from civicshield.core import SYSTEM, FrozenClock, Tlp
from civicshield.intel.matching import alert_level
from civicshield.intel.models import IntelObject, IntelProvenance
from civicshield.intel.sightings import (
    ENTRIES_PROPERTY,
    city_identity_id,
    indicator_sightings,
    record_sightings,
    replay_horizon,
    sighting_id,
)
from civicshield.intel.tlp import marking_id
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.telemetry.stream import detect_spooled
from tests.conftest import make_settings

from .conftest import bundle, indicator

IND = "indicator--0b3f8f66-3f0b-4a55-9d6a-5f2a0c1e9a11"
DAY = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def hits(entry: str, *minutes: int, ind: str = IND, day: datetime = DAY) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rule_id": [f"intel/{ind}"] * len(minutes),
            "@timestamp": [day + timedelta(minutes=m) for m in minutes],
            "_entry": [entry] * len(minutes),
        },
        schema={"rule_id": pl.String, "@timestamp": pl.Datetime("us", "UTC"), "_entry": pl.String},
    )


@pytest.fixture
def store(runtime: Runtime) -> Runtime:
    with runtime.session() as s:
        intel.import_stix(
            s,
            bundle(indicator("[ipv4-addr:value = '45.33.32.156']", ident=IND, confidence=90)),
            location="peer",
            actor=SYSTEM,
            clock=runtime.clock,
        )
    return runtime


def test_counts_versions_and_replays(store: Runtime) -> None:
    rt, now = store, store.clock.now()
    with rt.session() as s:
        assert record_sightings(s, hits("spool-1", 0, 5, 7), now=now, settings=rt.settings) == 1
    with rt.session() as s:
        later = now + timedelta(minutes=20)  # another 15-minute slot: both versions kept
        # spool-1 again (a replay after a crash) adds nothing; spool-2 is new
        replay = pl.concat([hits("spool-1", 0, 5, 7), hits("spool-2", 30, 42)])
        assert record_sightings(s, replay, now=later, settings=rt.settings) == 1
        assert record_sightings(s, hits("spool-2", 30, 42), now=later, settings=rt.settings) == 0
    with rt.session() as s:
        [seen] = indicator_sightings(s, IND)
        assert (seen.count, seen.versions) == (5, 2)
        assert (seen.first_seen, seen.last_seen) == (DAY, DAY + timedelta(minutes=42))
        assert seen.stix_id == sighting_id(IND, "2026-11-22") and seen.tlp == "amber"
        versions = s.scalars(
            select(IntelObject)
            .where(IntelObject.stix_id == seen.stix_id)
            .order_by(IntelObject.modified_key)
        ).all()
        first, second = (v.body for v in versions)
        assert first["count"] == 3 and second["count"] == 5
        assert second["modified"] > first["modified"] and second["created"] == first["created"]
        assert list(second[ENTRIES_PROPERTY]) == ["spool-1", "spool-2"]
        assert second[ENTRIES_PROPERTY]["spool-2"] == second["modified"]
        city = city_identity_id(rt.settings.city_name)
        assert second["where_sighted_refs"] == [city] and second["created_by_ref"] == city
        assert second["object_marking_refs"] == [marking_id(Tlp.AMBER)]
        identity = s.scalars(select(IntelObject).where(IntelObject.stix_id == city)).one()
        assert identity.body["identity_class"] == "organization"
        assert identity.body["name"] == rt.settings.city_name
        for body in (first, second, identity.body):
            assert validate_instance(body).is_valid


def test_counted_entries_are_kept_only_within_the_replay_horizon(store: Runtime) -> None:
    rt, now = store, store.clock.now()
    horizon = replay_horizon(rt.settings)
    assert horizon >= timedelta(seconds=10 * rt.settings.stream_claim_idle_seconds)
    steps = [("spool-1", timedelta(0)), ("spool-2", horizon / 2), ("spool-3", horizon * 1.2)]
    for entry, after in steps:
        with rt.session() as s:
            assert record_sightings(s, hits(entry, 1), now=now + after, settings=rt.settings)
    with rt.session() as s:
        body = _latest_body(s)
        # spool-1 was counted more than a horizon before spool-3: forgotten; spool-2 is not.
        assert list(body[ENTRIES_PROPERTY]) == ["spool-2", "spool-3"]
        # a replay of spool-2 (within the horizon) still counts nothing
        late = now + horizon * 1.3
        assert record_sightings(s, hits("spool-2", 1), now=late, settings=rt.settings) == 0
        assert body["count"] == 3


def test_one_version_per_slot_the_last_carrying_every_count(store: Runtime) -> None:
    rt, now = store, store.clock.now()  # 12:00, the start of a 15-minute slot
    assert rt.settings.intel_sighting_version_minutes == 15
    for minute in range(40):  # a hit in every batch for 40 minutes
        with rt.session() as s:
            at = now + timedelta(minutes=minute)
            assert record_sightings(s, hits(f"spool-{minute}", 1), now=at, settings=rt.settings)
    with rt.session() as s:
        [seen] = indicator_sightings(s, IND)
        assert (seen.count, seen.versions) == (40, 3)  # 12:00-12:15, 12:15-12:30, 12:30-
        kept = s.scalars(
            select(IntelObject.modified)
            .where(IntelObject.type == "sighting")
            .order_by(IntelObject.modified_key)
        ).all()
        assert [m.astimezone(UTC).strftime("%H:%M") for m in kept] == ["12:14", "12:29", "12:39"]
        provenance = s.scalar(select(func.count(IntelProvenance.id)))
        assert provenance == s.scalar(select(func.count(IntelObject.id)))  # none left orphaned


def test_every_version_is_kept_when_slots_are_off(store: Runtime) -> None:
    settings = store.settings.model_copy(update={"intel_sighting_version_minutes": 0})
    for minute in range(5):
        with store.session() as s:
            at = store.clock.now() + timedelta(minutes=minute)
            record_sightings(s, hits(f"spool-{minute}", 1), now=at, settings=settings)
    with store.session() as s:
        assert indicator_sightings(s, IND)[0].versions == 5


def test_entries_written_as_a_list_by_earlier_versions_still_count(store: Runtime) -> None:
    rt, now = store, store.clock.now()
    with rt.session() as s:
        record_sightings(s, hits("spool-1", 1), now=now, settings=rt.settings)
    with rt.session() as s:  # rewrite the stored version as earlier releases wrote it
        held = s.scalars(select(IntelObject).where(IntelObject.type == "sighting")).one()
        held.body = {**held.body, ENTRIES_PROPERTY: ["spool-1"]}
    with rt.session() as s:
        later = now + timedelta(minutes=5)
        assert record_sightings(s, hits("spool-1", 1), now=later, settings=rt.settings) == 0
        assert record_sightings(s, hits("spool-2", 2), now=later, settings=rt.settings) == 1
        assert list(_latest_body(s)[ENTRIES_PROPERTY]) == ["spool-1", "spool-2"]


def _latest_body(s: Any) -> dict[str, Any]:
    return dict(
        s.scalars(
            select(IntelObject)
            .where(IntelObject.type == "sighting")
            .order_by(IntelObject.modified_key.desc())
            .limit(1)
        )
        .one()
        .body
    )


def test_one_sighting_per_indicator_per_day(store: Runtime) -> None:
    rt, now = store, store.clock.now()
    other = "indicator--1c4a9f77-4a1c-4b66-8e7b-6a3b1d2f0b22"
    batch = pl.concat(
        [hits("e1", 1), hits("e1", 2, day=DAY - timedelta(days=1)), hits("e1", 3, ind=other)]
    )
    with rt.session() as s:
        assert record_sightings(s, batch, now=now, settings=rt.settings) == 3
        days = [(x.first_seen.date().isoformat(), x.count) for x in indicator_sightings(s, IND)]
        assert days == [("2026-11-22", 1), ("2026-11-21", 1)]
        assert [x.count for x in indicator_sightings(s, other)] == [1]
        assert indicator_sightings(s, "indicator--nope") == []
        identities = s.scalar(select(func.count()).where(IntelObject.type == "identity"))
        assert identities == 1  # stored once


def test_empty_or_foreign_rows_record_nothing(store: Runtime) -> None:
    with store.session() as s:
        assert record_sightings(s, pl.DataFrame(), now=DAY, settings=store.settings) == 0
        sigma = pl.DataFrame({"rule_id": ["sigma/x"], "_entry": ["e"]})
        assert record_sightings(s, sigma, now=DAY, settings=store.settings) == 0


@pytest.mark.parametrize(
    ("confidence", "level"),
    [
        (None, "medium"),
        (0, "low"),
        (39, "low"),
        (40, "medium"),
        (69, "medium"),
        (70, "high"),
        (84, "high"),
        (85, "critical"),
        (100, "critical"),
    ],
)
def test_alert_level_from_confidence(confidence: int | None, level: str) -> None:
    assert alert_level(confidence) == level


def test_continuous_detection_records_sightings(
    tmp_path: Path, db_url: str, clock: FrozenClock
) -> None:
    """Through the stream: hits raise an alert at the confidence level and a sighting."""
    from tests.unit.telemetry.test_stream import conn, take

    settings = make_settings(
        tmp_path / "var",
        database_url=db_url,
        detect_batch_events=1000,
        feeds_path=tmp_path / "no-feeds",
    )
    upgrade(settings.resolved_database_url)
    city = build_runtime(settings, clock=clock)
    body = indicator("[ipv4-addr:value = '10.0.0.6']", ident=IND, confidence=90, name="Kraken")
    with city.session() as s:
        assert not intel.import_stix(
            s, bundle(body), location="peer", actor=SYSTEM, clock=city.clock
        ).refused
    take(city, [conn(10 + i, 443, src="10.0.0.6") for i in range(3)])
    detect_spooled(city.session, city.settings, clock=city.clock)
    with city.session() as s:
        [alert] = [a for a in alerts.list_alerts(s).items if a.rule_id == f"intel/{IND}"]
        assert alert.severity.value == "critical"  # confidence 90
        [seen] = indicator_sightings(s, IND)
        assert (seen.count, seen.versions) == (3, 1)
    city.close()
