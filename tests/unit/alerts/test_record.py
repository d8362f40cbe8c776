"""Matches become deduplicated, idempotent alerts; suppressions hide them; assets are found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from civicshield import alerts, assets
from civicshield.alerts import AlertFilter, SuppressionCreate
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Invalid
from civicshield.runtime import Runtime

ANALYST = Actor(kind="user", name="ana", user_id=None)
T0 = datetime(2026, 11, 20, 10, 5, tzinfo=UTC)


def matches(
    n: int, *, rule: str = "r-1", src: str = "10.0.0.5", start: datetime = T0, **extra: object
) -> pl.DataFrame:
    data: dict[str, object] = {
        "rule_id": [rule] * n,
        "rule_title": ["Telnet brute force"] * n,
        "level": ["high"] * n,
        "author": ["CivicShield"] * n,
        "tags": [["attack.credential-access", "attack.t1110"]] * n,
        "event.dataset": ["zeek.conn"] * n,
        "@timestamp": [start + timedelta(seconds=i) for i in range(n)],
        "_line": list(range(1, n + 1)),
        "_raw": [f"line {i}" for i in range(n)],
        "source.ip": [src] * n,
        "destination.ip": ["10.20.0.9"] * n,
        "destination.port": ["23"] * n,
    }
    data.update({k: [v] * n for k, v in extra.items()})
    return pl.DataFrame(data, schema_overrides={"@timestamp": pl.Datetime("us", "UTC")})


def test_repeats_in_a_window_make_one_alert_with_counts(
    runtime: Runtime, clock: FrozenClock
) -> None:
    with runtime.session() as s:
        report = alerts.record_matches(s, matches(30), batch_id="b1", clock=clock, samples=5)
        assert len(report.created) == 1 and report.matches == 30
    with runtime.session() as s:
        page = alerts.list_alerts(s)
        assert page.total == 1
        alert = page.items[0]
        assert alert.count == 30
        assert alert.first_seen == T0 and alert.last_seen == T0 + timedelta(seconds=29)
        assert alert.rule_author == "CivicShield"
        assert alert.techniques == ["T1110"] and alert.tactics == ["credential-access"]
        assert alert.key_fields == {"source.ip": "10.0.0.5"}
        detail = alerts.get_alert(s, alert.id)
        assert len(detail.events) == 5 and detail.events[0].raw == "line 0"
        assert detail.events[0].fields["destination.port"] == "23"


def test_replaying_a_batch_creates_no_duplicate(runtime: Runtime, clock: FrozenClock) -> None:
    for _ in range(3):
        with runtime.session() as s:
            alerts.record_matches(s, matches(10), batch_id="same", clock=clock, samples=4)
    with runtime.session() as s:
        alerts.record_matches(
            s, matches(5, start=T0 + timedelta(minutes=1)), batch_id="next", clock=clock, samples=4
        )
    with runtime.session() as s:
        page = alerts.list_alerts(s)
        assert page.total == 1 and page.items[0].count == 15
        assert len(alerts.get_alert(s, page.items[0].id).events) == 4


def test_other_key_or_window_gives_another_alert(runtime: Runtime, clock: FrozenClock) -> None:
    frame = pl.concat(
        [matches(2), matches(2, src="10.0.0.6"), matches(2, start=T0 + timedelta(hours=1))]
    )
    with runtime.session() as s:
        report = alerts.record_matches(s, frame, batch_id="b", clock=clock)
    assert len(report.created) == 3
    with runtime.session() as s:
        groups = alerts.list_groups(s)
        assert len(groups) == 1 and groups[0].alerts == 3 and groups[0].events == 6


def test_the_inventory_asset_and_sector_are_attached(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.session() as s:
        cam = assets.create_asset(
            s,
            assets.AssetCreate(
                name="Camera 12", sector="public_safety", kind="iot", ips=["10.0.0.5"]
            ),
            actor=ANALYST,
            clock=clock,
        )
        alerts.record_matches(s, matches(1), batch_id="b", clock=clock)
    with runtime.session() as s:
        alert = alerts.list_alerts(s).items[0]
        assert alert.asset_id == cam.id and alert.asset_name == "Camera 12"
        assert alert.sector is not None and alert.sector.value == "public_safety"
        assert alerts.list_alerts(s, AlertFilter(sectors=["public_safety"])).total == 1
        assert alerts.list_alerts(s, AlertFilter(sectors=["water"])).total == 0


def test_suppressed_matches_raise_nothing_and_are_counted(
    runtime: Runtime, clock: FrozenClock
) -> None:
    with runtime.session() as s:
        sup = alerts.create_suppression(
            s,
            SuppressionCreate(
                rule_id="r-1",
                match={"source.ip": "10.0.0.5"},
                reason="lab camera",
                expires_at=clock.now() + timedelta(days=7),
            ),
            actor=ANALYST,
            clock=clock,
        )
        report = alerts.record_matches(
            s, pl.concat([matches(4), matches(3, src="10.0.0.7")]), batch_id="b", clock=clock
        )
        assert report.suppressed == 4 and len(report.created) == 1
    with runtime.session() as s:
        [row] = alerts.list_suppressions(s, clock=clock)
        assert row.id == sup.id and row.hits == 4 and row.author == "ana"
    clock.advance(timedelta(days=8))  # expired: matches raise alerts again
    with runtime.session() as s:
        report = alerts.record_matches(
            s, matches(2, start=T0 + timedelta(days=8)), batch_id="c", clock=clock
        )
        assert report.suppressed == 0 and len(report.created) == 1


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"match": {"colour": "red"}, "reason": "x"}, "match"),
        ({"match": {}, "reason": "x"}, "match"),
        ({"rule_id": "r", "reason": " "}, "reason"),
    ],
)
def test_bad_suppressions_are_refused_with_the_field(
    runtime: Runtime, clock: FrozenClock, data: dict[str, object], where: str
) -> None:
    with runtime.session() as s, pytest.raises(Invalid) as caught:
        alerts.create_suppression(
            s, SuppressionCreate.model_validate(data), actor=ANALYST, clock=clock
        )
    assert caught.value.errors[0].loc == ("body", where)


def test_matches_without_required_columns_are_refused(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.session() as s, pytest.raises(Invalid, match="rule_title"):
        alerts.record_matches(
            s, pl.DataFrame({"rule_id": ["x"], "level": ["low"]}), batch_id="b", clock=clock
        )
