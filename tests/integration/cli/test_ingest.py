"""`civicshield ingest` and `civicshield quarantine` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA
from tests.integration.cli.conftest import Cli

NETLOGS = SHARED_DATA / "netlogs"


@pytest.mark.skipif(not NETLOGS.is_dir(), reason=f"needs {NETLOGS}")
def test_ingest_hunt_quarantine_and_replay(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    zeek = NETLOGS / "zeek-wrccdc2018" / "tsv" / "dns.log"
    eve = NETLOGS / "suricata-eve" / "eve" / "dns-edns-ecs.json"
    broken = tmp_path / "eve-broken.json"
    broken.write_bytes(eve.read_bytes().splitlines()[0] + b"\n{not json\n")
    reports = cli.json("ingest", str(zeek), str(eve), str(broken))
    assert [(r["format"], r["quarantined"]) for r in reports] == [
        ("zeek", 0),
        ("eve", 0),
        ("eve", 1),
    ]
    assert reports[0]["datasets"] == {"zeek.dns": 1000}
    listed = cli.json("quarantine", "list")
    assert listed["counts"] == {"eve": 1}
    assert listed["items"][0]["position"] == "line 2"
    assert listed["items"][0]["source"].endswith("eve-broken.json")
    sql = "SELECT count(*) AS n FROM events WHERE \"event.dataset\" = 'zeek.dns'"
    assert cli.ok("hunt", sql, "--format", "csv").stdout.split() == ["n", "1000"]
    assert cli.json("quarantine", "replay", "eve")["still_bad"] == 1
    refused = cli("quarantine", "replay", "nfdump")
    assert refused.exit_code == 1 and "cannot be replayed" in refused.stderr
    unknown = tmp_path / "x.bin"
    unknown.write_bytes(b"\x00\x01 not a log\n")
    bad = cli("ingest", str(unknown))
    assert bad.exit_code == 1 and "cannot tell the format" in bad.stderr
