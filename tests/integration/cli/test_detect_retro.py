"""`civicshield detect --retro`: rules over the event store, with --since/--dataset, outputs
and usage errors; and a real sample ingested with `civicshield ingest`."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from civicshield.detect.eventstore import EventStore
from tests.conftest import SHARED_DATA

from .conftest import Cli, cli_env

RULE = """title: Lookup of a test domain
id: 6a1f4c0e-0000-4000-8000-000000000002
status: test
level: high
logsource:
    product: zeek
    service: dns
detection:
    selection:
        query|endswith: '.evil.example'
    condition: selection
"""


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    return Cli(cli_env(tmp_path / "var", url), tmp_path / "var", url)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "dns.yml").write_text(RULE, encoding="utf-8")
    return folder


def _store(cli: Cli, now: datetime) -> None:
    stamps = [now, now - timedelta(days=40), now]
    frame = pl.DataFrame(
        {
            "@timestamp": pl.Series(stamps, dtype=pl.Datetime("us", "UTC")),
            "query": ["a.evil.example", "b.evil.example", "fine.example"],
            "_line": [1, 2, 3],
            "_raw": ["a", "b", "c"],
        }
    )
    store = EventStore(cli.data_dir / "events")
    store.write(frame, "zeek.dns", now=now)
    store.write(frame.head(1), "suricata.dns", now=now)


def test_retro_outputs_window_and_datasets(cli: Cli, rules: Path) -> None:
    now = datetime.now(UTC)
    _store(cli, now)
    base = ("detect", "--retro", "--rules", str(rules))
    records = [json.loads(line) for line in cli.ok(*base, "--format", "jsonl").stdout.splitlines()]
    assert sorted((r["source"], r["line"]) for r in records) == [("zeek.dns", 1), ("zeek.dns", 2)]
    assert records[0]["rule_id"] == "6a1f4c0e-0000-4000-8000-000000000002"
    recent = cli.ok(*base, "--since", "30d", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(recent)))
    assert [(r["source"], r["line"]) for r in rows] == [("zeek.dns", "1")]
    assert datetime.fromisoformat(rows[0]["@timestamp"]) == now.replace(tzinfo=UTC)
    assert cli.ok(*base, "--dataset", "suricata.dns", "--format", "jsonl").stdout == ""
    table = cli.ok(*base, "--until", (now - timedelta(days=1)).isoformat())
    assert "zeek.dns" in table.stdout and "time" in table.stdout
    assert "2 matches" not in table.stderr and "1 matches" in table.stderr


def test_retro_usage_errors(cli: Cli, rules: Path, tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text("{}\n", encoding="utf-8")
    with_path = cli("detect", str(events), "--retro", "--rules", str(rules))
    assert with_path.exit_code == 2 and "give no PATH" in with_path.stderr
    assert cli("detect", "--rules", str(rules)).exit_code == 2
    assert cli("detect", str(events), "--since", "30d", "--rules", str(rules)).exit_code == 2
    bad = cli("detect", "--retro", "--since", "yesterday", "--rules", str(rules))
    assert bad.exit_code == 2 and "--since" in bad.stderr


ZEEK_DNS = SHARED_DATA / "netlogs" / "zeek-zat" / "tsv" / "dns.log"
Z_FLAG = SHARED_DATA / "sigma" / "rules" / "network" / "zeek" / "zeek_dns_susp_zbit_flag.yml"


@pytest.mark.skipif(not (ZEEK_DNS.is_file() and Z_FLAG.is_file()), reason="needs shared data")
def test_retro_over_an_ingested_zeek_log(cli: Cli) -> None:
    cli.ok("ingest", str(ZEEK_DNS))
    out = cli.ok("detect", "--retro", "--rules", str(Z_FLAG), "--format", "jsonl").stdout
    found = sorted((r["source"], r["line"]) for r in map(json.loads, out.splitlines()))
    assert found == [("zeek.dns", 57), ("zeek.dns", 58), ("zeek.dns", 59)]
