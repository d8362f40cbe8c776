"""`civicshield intel …`: import the shared samples, list, show, export, warninglists, sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

from .conftest import Cli

INTEL = SHARED_DATA / "intel"


@pytest.fixture
def samples() -> Path:
    if not (INTEL / "misp-feed-sample").is_dir():
        pytest.skip("shared intel samples are absent (../shared/data/intel)")
    return INTEL


def test_import_list_show_export(initialised: Cli, samples: Path, tmp_path: Path) -> None:
    cli = initialised
    feed = cli.json(
        "intel", "import", str(samples / "misp-feed-sample/feed"), "--format", "misp-feed"
    )
    assert (feed["new"], feed["skipped"]) == (12, 4)
    again = cli.json("intel", "import", str(samples / "misp-feed-sample/feed"), "-f", "misp-feed")
    assert (again["read"], again["skipped"]) == (0, 2)
    bad = cli.json(
        "intel",
        "import",
        str(samples / "stix-tlp2/using-tlp2.0-green.INVALID-upstream-example.json"),
    )
    assert bad["stored"] == 2 and "'created'" in bad["refused"][0]["reason"]
    listed = cli.json("intel", "list", "--type", "md5")
    assert listed["total"] == 1
    stix_id = listed["items"][0]["stix_id"]
    assert cli.json("intel", "show", stix_id)["lookups"] == [
        ["md5", "0749bae92ca336a02c83d126e04ec628"]
    ]
    text = cli.ok("intel", "list").stdout
    assert "file:name is not an observable" in text
    loaded = cli.json("intel", "warninglists", "load", str(samples / "misp-warninglists/lists"))
    assert len(loaded) == 19
    out = tmp_path / "out.json"
    cli.ok("intel", "export", "--out", str(out), "--max-tlp", "clear")
    exported = json.loads(out.read_text())
    # the tlp:white event (5) and the unmarked one (5): no marking is no restriction
    assert sum(o["type"] == "indicator" for o in exported["objects"]) == 10
    refused = cli("intel", "export", "--out", str(out), "--max-tlp", "red")
    assert refused.exit_code == 1 and "TLP:RED may not be exported" in refused.stderr
    sources = cli.json("intel", "sources")
    assert [s["kind"] for s in sources] == ["misp-feed", "stix"]


def test_csv_and_errors(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    listing = tmp_path / "bad.txt"
    listing.write_text("kraken-iot.example\n# comment\ncnc.example\n")
    done = cli.json("intel", "import", str(listing), "--format", "csv", "--mapping", "domain")
    assert done["new"] == 2
    missing = cli("intel", "import", str(listing), "--format", "csv")
    assert missing.exit_code == 1 and "--mapping is required" in missing.stderr
    wrong = cli("intel", "import", str(listing), "--format", "csv", "--mapping", "colour")
    assert wrong.exit_code == 1 and "'colour' is not one of" in wrong.stderr
    nothing = cli("intel", "show", "indicator--nope")
    assert nothing.exit_code == 1 and "does not exist" in nothing.stderr
