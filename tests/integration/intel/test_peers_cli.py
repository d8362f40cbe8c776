"""`civicshield intel peer …`, `intel probe`, `intel subscribe` and `intel pull` against a
live TAXII server; the secret is read from standard input and never printed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import LiveServer
from tests.integration.cli.conftest import ADMIN_PASSWORD, Cli, cli_env
from tests.unit.intel.conftest import indicator
from tests.unit.intel.peers.fake_taxii import FakeTaxii

SECRET = "peer-secret"


@pytest.fixture
def cli(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    monkeypatch.chdir(tmp_path)
    logger = logging.getLogger("civicshield")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    runner = Cli(cli_env(tmp_path / "var", db_url), tmp_path / "var", db_url)
    runner.ok("init", env={"CIVICSHIELD_ADMIN_PASSWORD": ADMIN_PASSWORD})
    yield runner
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture
def fake() -> Iterator[tuple[FakeTaxii, str]]:
    server = FakeTaxii(password=SECRET)
    server.add_collection("c1")
    with LiveServer(server.app(), lifespan="off") as live:
        yield server, live.url


def test_probe_peer_subscribe_pull(cli: Cli, fake: tuple[FakeTaxii, str]) -> None:
    server, url = fake
    probed = cli.json(
        "intel", "probe", f"{url}/taxii2/", "--user", "peer", "--password-stdin",
        input=f"{SECRET}\n",
    )  # fmt: skip
    assert probed["roots"][0]["collections"][0]["id"] == "c1"
    text = cli.ok("intel", "probe", f"{url}/taxii2/", "--user", "peer", "--password-stdin",
                  input=f"{SECRET}\n").stdout  # fmt: skip
    assert "c1" in text and "Trust group" in text
    refused = cli("intel", "probe", f"{url}/taxii2/", "--user", "peer", "--password-stdin",
                  input="wrong\n")  # fmt: skip
    assert refused.exit_code == 1 and "401 Unauthorized" in refused.stderr

    added = cli.json(
        "intel", "peer", "add", "Villa Norte", f"{url}/taxii2/", "--user", "peer",
        "--password-stdin", input=f"{SECRET}\n",
    )  # fmt: skip
    assert added["has_secret"] and SECRET not in str(added)
    server.put("c1", indicator("[domain-name:value = 'kraken-iot.example']"))
    sub = cli.json("intel", "subscribe", "Villa Norte", f"{url}/api1/collections/c1/")
    assert sub["can_read"] and sub["collection_id"] == "c1"
    [pulled] = cli.json("intel", "pull")
    assert (pulled["ok"], pulled["new"]) == (True, 1)
    [again] = cli.json("intel", "pull", str(sub["id"]))
    assert (again["ok"], again["read"]) == (True, 0)
    shown = cli.json("intel", "peer", "show", "Villa Norte")
    assert shown["subscriptions"][0]["counts"]["read"] == 0
    listed = cli.ok("intel", "peer", "list").stdout
    assert "Villa Norte" in listed and SECRET not in listed
    assert "write=True" in cli.ok("intel", "peer", "probe", "Villa Norte").stdout
    cli.ok("intel", "peer", "remove", "Villa Norte")
    assert cli.json("intel", "peer", "list") == []


def test_bad_input_is_named(cli: Cli) -> None:
    bad = cli("intel", "subscribe", "nobody", "https://peer.example/taxii2/")
    assert bad.exit_code == 1 and "not a collection URL" in bad.stderr
    missing = cli("intel", "subscribe", "nobody", "https://peer.example/r/collections/c/")
    assert missing.exit_code == 1 and "no peer named 'nobody'" in missing.stderr
    both = cli("intel", "probe", "https://x/", "--password-stdin", "--token-stdin", input="a\n")
    assert both.exit_code == 1 and "not both" in both.stderr
