"""Sigma correlation rules in continuous detection (`evaluate_live`): bursts split across
micro-batches with the stored events as history, `generate`, the city pack's brute-force rule,
and the same hits as `civicshield detect` over the same events."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from civicshield.cli import app
from civicshield.detect import evaluate_live
from civicshield.detect.ingest import parse_lines
from civicshield.detect.live import LiveRules, live_rules
from tests.conftest import make_settings
from tests.unit.detect.rulefiles import write_rule

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
BASE = "dddddddd-0000-4000-8000-000000000001"
CORR = "dddddddd-0000-4000-8000-000000000002"
PACK_BASE = "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d05"
PACK_BRUTE = "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d06"
ATTACKER, OTHER, THIRD = "203.0.113.9", "198.51.100.7", "192.0.2.44"


def write_rules(root: Path, *, generate: bool | None = None, threshold: int = 10) -> Path:
    """A base rule (SSH connections, by `name`) and an event_count correlation over it."""
    city = root / "rules" / "city"
    write_rule(
        city,
        "ssh.yml",
        f"title: SSH connection\nid: {BASE}\nname: ssh_connection\nstatus: test\n"
        "author: Base author\nlogsource:\n    product: zeek\n    service: conn\n"
        "detection:\n    selection:\n        id.resp_p: 22\n    condition: selection\n"
        "level: low\n",
    )
    generate_line = "" if generate is None else f"    generate: {str(generate).lower()}\n"
    write_rule(
        city,
        "brute.yml",
        f"title: SSH burst\nid: {CORR}\nstatus: test\nauthor: Correlation author\n"
        "tags:\n    - attack.t1110\ncorrelation:\n    type: event_count\n"
        "    rules:\n        - ssh_connection\n    group-by:\n        - id.orig_h\n"
        f"    timespan: 5m\n    condition:\n        gte: {threshold}\n{generate_line}"
        "level: high\n",
    )
    return city


def rules_in(root: Path, **options: Any) -> LiveRules:
    write_rules(root, **options)
    # no SigmaHQ tree: the city folder alone, through the compiled cache as in production
    return live_rules(make_settings(root, feeds_path=None))


def conn_lines(rows: Sequence[tuple[str, float]], *, port: int = 22) -> list[bytes]:
    """Zeek JSON conn lines: (originator, seconds after T0), answered short sessions."""
    return [
        json.dumps(
            {
                "_path": "conn",
                "ts": (T0 + timedelta(seconds=at)).timestamp(),
                "uid": f"C{orig}-{at}",
                "id.orig_h": orig,
                "id.orig_p": 40000,
                "id.resp_h": "10.20.0.5",
                "id.resp_p": port,
                "proto": "tcp",
                "conn_state": "SF",
                "duration": 1.5,
            }
        ).encode()
        for orig, at in rows
    ]


def batch(rows: Sequence[tuple[str, float]], *, port: int = 22) -> pl.DataFrame:
    results = parse_lines("zeek", list(enumerate(conn_lines(rows, port=port), 1)), source="t")
    assert len(results) == 1 and not results[0].quarantined
    assert results[0].dataset == "zeek.conn"
    return results[0].frame


class Store:
    """The event store's part: batches land here after detection; `history` reads them back
    (lazily, so the caller's column choice and group filter reach the scan)."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []
        self.calls: list[tuple[str, datetime, datetime, list[str] | None]] = []

    def history(
        self, dataset: str, since: datetime, until: datetime, columns: Sequence[str] | None
    ) -> pl.LazyFrame:
        self.calls.append((dataset, since, until, None if columns is None else list(columns)))
        if not self.frames:
            return pl.LazyFrame({"@timestamp": pl.Series([], dtype=pl.Datetime("us", "UTC"))})
        lazy = pl.concat(self.frames, how="diagonal_relaxed").lazy()
        return lazy.filter(pl.col("@timestamp").is_between(since, until))

    def run(self, live: LiveRules, frame: pl.DataFrame) -> pl.DataFrame:
        found = evaluate_live(live, frame, "zeek.conn", history=self.history)
        self.frames.append(frame)  # stored once detected, as the stream does
        return found


def hits(found: pl.DataFrame) -> list[tuple[str, str | None]]:
    rows = found.filter(pl.col("rule_id") == CORR)
    return list(zip(rows["rule_id"], rows["source.ip"], strict=True))


def split_burst(count: int) -> list[list[tuple[str, float]]]:
    """`count` sessions each from ATTACKER and OTHER, 5 s apart, in three batches."""
    rows = [(who, n * 5.0) for n in range(count) for who in (ATTACKER, OTHER)]
    third = -(-len(rows) // 3)
    return [rows[i : i + third] for i in range(0, len(rows), third)]


def test_a_burst_split_across_three_batches_fires_once_per_group(tmp_path: Path) -> None:
    live = rules_in(tmp_path)
    store = Store()
    found = [store.run(live, batch(rows)) for rows in split_burst(12)]
    assert [hits(f) for f in found[:2]] == [[], []]  # 4 then 8 per source: below 10
    last = found[2].filter(pl.col("rule_id") == CORR)
    assert sorted(last["source.ip"]) == sorted([ATTACKER, OTHER])
    # the hit carries the correlation's metadata and its latest event of this batch
    assert set(last["rule_title"]) == {"SSH burst"} and set(last["level"]) == {"high"}
    assert last["tags"].to_list() == [["attack.t1110"], ["attack.t1110"]]
    assert sorted(last["@timestamp"]) == [T0 + timedelta(seconds=55)] * 2
    # only what the rules and the correlation read, over [first match - 5 min, last match]
    dataset, since, until, columns = store.calls[-1]
    assert dataset == "zeek.conn" and columns is not None
    assert {"@timestamp", "id.orig_h", "id.resp_p"} <= set(columns) and "_raw" not in columns
    assert (since, until) == (
        T0 + timedelta(seconds=40) - timedelta(minutes=5),
        last["@timestamp"].max(),
    )
    # a later batch with one more match of a third source re-announces nothing from history
    later = store.run(live, batch([(THIRD, 60.0)]))
    assert hits(later) == []


def test_a_later_batch_in_the_same_window_updates_the_hit(tmp_path: Path) -> None:
    live = rules_in(tmp_path)
    store = Store()
    first = store.run(live, batch([(ATTACKER, n * 5.0) for n in range(10)]))
    second = store.run(live, batch([(ATTACKER, 50.0)]))
    # same correlation and group: the alert queue counts it into the same alert
    assert hits(first) == hits(second) == [(CORR, ATTACKER)]


def test_below_the_threshold_never_fires(tmp_path: Path) -> None:
    live = rules_in(tmp_path)
    store = Store()
    found = [store.run(live, batch(rows)) for rows in split_burst(9)]
    assert all(f.height == 0 for f in found)  # no hit, and no base-rule match of its own


def test_no_history_is_read_when_no_base_rule_matched(tmp_path: Path) -> None:
    live = rules_in(tmp_path)
    store = Store()
    found = store.run(live, batch([(ATTACKER, 0.0)], port=443))
    assert found.height == 0 and store.calls == []


@pytest.mark.parametrize("generate", [None, False], ids=["default", "explicit"])
def test_generate_false_keeps_base_matches_out(tmp_path: Path, generate: bool | None) -> None:
    live = rules_in(tmp_path, generate=generate)
    found = evaluate_live(live, batch([(ATTACKER, n) for n in range(10)]), "zeek.conn")
    assert found["rule_id"].to_list() == [CORR]
    assert live.quiet == {BASE}


def test_generate_true_returns_base_matches_too(tmp_path: Path) -> None:
    live = rules_in(tmp_path, generate=True)
    found = evaluate_live(live, batch([(ATTACKER, n) for n in range(10)]), "zeek.conn")
    assert sorted(found["rule_id"].to_list()) == [BASE] * 10 + [CORR]
    assert found.filter(pl.col("rule_id") == BASE)["event_index"].to_list() == list(range(10))


def test_without_history_a_split_burst_is_missed(tmp_path: Path) -> None:
    live = rules_in(tmp_path)
    found = [evaluate_live(live, batch(rows), "zeek.conn") for rows in split_burst(12)]
    assert [hits(f) for f in found] == [[], [], []]  # the documented limitation


def test_city_pack_brute_force_fires_live(tmp_path: Path) -> None:
    live = live_rules(make_settings(tmp_path, feeds_path=None, rule_pack_enabled=True))
    assert PACK_BRUTE in {c.rule.id for c in live.correlations}
    telnet = [(ATTACKER, n * 20.0) for n in range(10)] + [("10.9.9.9", n) for n in range(12)]
    store = Store()
    first = store.run(live, batch(telnet[:6] + telnet[10:], port=23))
    second = store.run(live, batch(telnet[6:10], port=23))
    assert first.filter(pl.col("rule_id") == PACK_BRUTE).height == 0
    brute = second.filter(pl.col("rule_id") == PACK_BRUTE)
    assert brute["source.ip"].to_list() == [ATTACKER]  # the internal source is no brute force
    assert brute["level"].to_list() == ["high"]
    # its base rule (level low) raises no alert per session
    assert PACK_BASE not in first["rule_id"].to_list() + second["rule_id"].to_list()


def test_cli_and_live_give_the_same_correlation_hits(tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    rows = [(ATTACKER, n * 10.0) for n in range(12)] + [(OTHER, n * 200.0) for n in range(12)]
    rows += [(THIRD, 100 + n * 2.0) for n in range(10)]
    lines = conn_lines(rows)
    frame = batch(rows)
    live = evaluate_live(live_rules(make_settings(tmp_path, feeds_path=None)), frame, "zeek.conn")
    found = live.filter(pl.col("rule_id") == CORR)

    # the CLI reads JSON lines: give it the event time it reads (`@timestamp`)
    events = tmp_path / "conn.jsonl"
    stamps = frame["@timestamp"].to_list()
    events.write_text(
        "".join(
            json.dumps({**json.loads(line), "@timestamp": stamp.isoformat()}) + "\n"
            for line, stamp in zip(lines, stamps, strict=True)
        ),
        encoding="utf-8",
    )
    env = {k: None for k in os.environ if k.startswith("CIVICSHIELD_")}
    env |= {"CIVICSHIELD_DATA_DIR": str(tmp_path / "cli"), "CIVICSHIELD_ENVIRONMENT": "test"}
    args = ["detect", str(events), "--rules", str(rules), "--mapping", "combined"]
    args += ["--logsource", "zeek/conn", "--format", "jsonl"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    cli_hits = [r for r in printed if r["rule_id"] == CORR]
    assert len(cli_hits) == 2 and len(printed) == 2  # generate: false on both paths
    # the same groups; live points at each hit's latest event, the CLI prints its first
    by_group = {r["group"]["id.orig_h"]: r for r in cli_hits}
    assert sorted(found["source.ip"]) == sorted(by_group) == sorted([ATTACKER, THIRD])
    for hit in found.iter_rows(named=True):
        last_line = int(by_group[hit["source.ip"]]["event_keys"][-1].rpartition(":")[2])
        assert hit["_line"] == last_line
        assert hit["@timestamp"].isoformat() == by_group[hit["source.ip"]]["last_time"]
