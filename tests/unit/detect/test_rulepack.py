"""CivicShield's own rules: all compile, each fires on the demo city's attacks and stays quiet on
its ordinary traffic (the false-positive check), each keeps its author."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from civicshield.detect.live import evaluate_batch, live_rules
from civicshield.detect.sigma.files import iter_rule_files
from civicshield.detect.sigma.ruleset import rule_pack_dir
from civicshield.telemetry.demo import demo_frames
from tests.conftest import make_settings

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
# rule id -> (dataset, expected matches on the demo telemetry)
EXPECTED = {
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d01": ("suricata.alert", 100),  # severity 1: 4 + 93 + 3
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d02": ("suricata.alert", 120),  # brute force
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d03": ("zeek.modbus", 3),  # the writes from public Wi-Fi
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d04": ("zeek.http", 4),  # four cameras fetch the payload
}


@pytest.fixture(scope="module")
def matches(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    tmp = tmp_path_factory.mktemp("pack")
    settings = make_settings(tmp / "var", feeds_path=tmp / "none", rule_pack_enabled=True)
    live = live_rules(settings)
    assert len(live.ruleset.rules) == len(list(iter_rule_files(rule_pack_dir())))
    assert "no SigmaHQ rules" in live.note
    found = [evaluate_batch(live.ruleset, r.frame, r.dataset) for r in demo_frames(NOW)]
    return pl.concat([f for f in found if f.height], how="diagonal_relaxed")


def test_every_pack_rule_compiles_with_author_and_false_positive_note() -> None:
    files = list(iter_rule_files(rule_pack_dir()))
    assert len(files) == len(EXPECTED)
    for path in files:
        text = Path(path).read_text(encoding="utf-8")
        assert "author: CivicShield" in text and "falsepositives:" in text, path


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_each_rule_fires_on_its_scenario_only(matches: pl.DataFrame, rule_id: str) -> None:
    dataset, count = EXPECTED[rule_id]
    mine = matches.filter(pl.col("rule_id") == rule_id)
    assert mine.height == count
    assert set(mine.get_column("event.dataset")) == {dataset}
    assert set(mine.get_column("author")) == {"CivicShield"}
