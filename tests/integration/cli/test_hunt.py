"""`civicshield hunt`: SQL over the event store from the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from civicshield.detect.eventstore import EventStore
from tests.integration.cli.conftest import Cli


def test_hunt_outputs_and_errors(initialised: Cli) -> None:
    cli = initialised
    now = datetime.now(UTC)
    store = EventStore(cli.data_dir / "events")
    stamps = pl.Series([now, now - timedelta(days=40)], dtype=pl.Datetime("us", "UTC"))
    frame = pl.DataFrame({"@timestamp": stamps, "destination.port": [23, 443]})
    store.write(frame, "zeek.conn", now=now)
    sql = 'SELECT "destination.port" AS port FROM events ORDER BY port'
    assert cli.ok("hunt", sql, "--format", "csv").stdout.splitlines() == ["port", "23", "443"]
    recent = cli.ok("hunt", sql, "--since", "30d", "--format", "jsonl").stdout
    assert recent.strip() == '{"port":23}'
    assert "23" in cli.ok("hunt", sql).stdout
    bad = cli("hunt", "SELECT missing FROM events")
    assert bad.exit_code == 1 and "hunt query failed" in bad.stderr
    assert cli("hunt", sql, "--since", "yesterday").exit_code == 1
