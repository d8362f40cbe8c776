"""`civicshield intel taxii-seed` and `intel taxii list|member-add|collection-add|grant`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicshield.intel import taxii
from tests.integration.cli.conftest import (  # noqa: F401 - fixture
    Cli,
    _restore_logging,
    cli_env,
)
from tests.unit.intel.conftest import shared
from tests.unit.intel.taxii.conftest import FIXTURE, HIGH_VALUE, SECRET


@pytest.fixture
def cli(tmp_path: Path, any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    cli = Cli(cli_env(tmp_path / "var", any_db_url), tmp_path / "var", any_db_url)
    cli.ok("db", "upgrade")
    return cli


def test_seed_list_and_discovery_kept(cli: Cli) -> None:
    path = shared(FIXTURE)
    report = cli.json("intel", "taxii-seed", str(path), "--user", "admin:Password0")
    assert (report["api_roots"], report["collections"], report["objects"]) == (3, 5, 8)
    assert report["members"] == 1 and report["problems"] == []
    saved = taxii.load_discovery(cli.data_dir)
    assert saved["title"] == "Some TAXII Server"
    listed = cli.json("intel", "taxii", "list")
    assert [r["slug"] for r in listed["api_roots"]] == ["api1", "api2", "trustgroup1"]
    assert {c["uuid"]: c["object_count"] for c in listed["collections"]}[HIGH_VALUE] == 8
    table = cli.ok("intel", "taxii", "list").stdout
    assert "High Value Indicator Collection" in table and "admin" in table
    again = cli("intel", "taxii-seed", str(path))
    assert again.exit_code == 0 and "already exists" in again.stdout
    replaced = cli.json("intel", "taxii-seed", str(path), "--replace")
    assert replaced["problems"] == [] and replaced["members"] == 0


def test_bad_files_and_user_options(cli: Cli, tmp_path: Path) -> None:
    missing = cli("intel", "taxii-seed", str(tmp_path / "nope.json"))
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert "not readable JSON" in cli("intel", "taxii-seed", str(broken)).stderr
    bad_user = cli("intel", "taxii-seed", str(shared(FIXTURE)), "--user", "nopassword")
    assert bad_user.exit_code == 1 and "NAME:PASSWORD" in bad_user.stderr
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"r1": {"collections": [{"id": "bad"}]}}), encoding="utf-8")
    result = cli.ok("intel", "taxii-seed", str(partial))
    assert "problem $['r1'].collections[0]" in result.stdout


def test_member_collection_and_grant(cli: Cli) -> None:
    cli.ok("intel", "taxii-seed", str(shared(FIXTURE)))
    made = cli.json(
        "intel", "taxii", "member-add", "lyon", "--city", "Lyon", "--root", "trustgroup1"
    )
    assert made["api_roots"] == ["trustgroup1"] and len(made["password"]) >= 20
    piped = cli.json(
        "intel", "taxii", "member-add", "quebec", "--password-stdin", input="Quebec-Peer-1\n"
    )
    assert "password" not in piped and piped["api_roots"] == []
    added = cli.json(
        "intel",
        "taxii",
        "collection-add",
        "trustgroup1",
        "Cameras",
        "--tlp",
        "green",
        "--topic",
        "cameras",
        "--single-city",
        "--write",
    )
    assert (added["tlp"], added["multi_city"], added["can_write"]) == ("green", False, True)
    granted = cli.json("intel", "taxii", "grant", "lyon", SECRET, "--read")
    assert granted["grants"] == {SECRET: {"can_read": True, "can_write": False}}
    unknown = cli("intel", "taxii", "grant", "nobody", SECRET, "--read")
    assert unknown.exit_code != 0 and "nobody" in unknown.stderr
    bad_tlp = cli("intel", "taxii", "collection-add", "trustgroup1", "X", "--tlp", "purple")
    assert bad_tlp.exit_code != 0
