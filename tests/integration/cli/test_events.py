"""`civicshield events status|maintain`."""

from __future__ import annotations

from tests.integration.cli.conftest import Cli
from tests.integration.telemetry.test_maintenance import fill


def test_events_status_and_maintain_cli(initialised: Cli) -> None:
    cli = initialised
    fill(cli.data_dir / "events")
    status = cli.json("events", "status")
    assert status["syslog"]["days"] == 3 and status["zeek.conn"]["files"] == 4
    done = cli.json("events", "maintain")
    assert len(done["compacted"]) == 2
