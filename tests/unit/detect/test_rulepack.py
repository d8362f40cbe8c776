"""CivicShield's own rules: all compile, each fires on the demo city's attacks and stays quiet on
its ordinary traffic (the false-positive check), each keeps its author. Rule by rule positive and
negative tests of the city rules: `test_rulepack_city.py`."""

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
# rule id -> (dataset, expected matches on the demo telemetry); None, 0: quiet on the whole demo
EXPECTED: dict[str, tuple[str | None, int]] = {
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d01": ("suricata.alert", 100),  # severity 1: 4 + 93 + 3
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d02": ("suricata.alert", 120),  # brute force
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d03": ("zeek.modbus", 3),  # the writes from public Wi-Fi
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d04": ("zeek.http", 4),  # four cameras fetch the payload
    # scenario 1: 20 attackers x 6 exposed cameras x 12 answered Telnet/SSH guesses
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d05": ("zeek.conn", 1440),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d07": (None, 0),
    # scenario 1: the four fallen cameras' payload fetch, C2 beacons and Telnet scans
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d09": ("zeek.conn", 5688),
    # scenario 2: 10.60.118.77's sweep of the water PLCs on 502 and its Modbus session
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d11": ("zeek.conn", 29),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d12": ("suricata.flow", 1),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d13": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d14": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d15": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d16": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d17": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d18": ("zeek.conn", 29),  # the same sweep and session
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d20": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d21": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d23": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d24": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d25": (None, 0),
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d26": (None, 0),
    # the demo's routers log routine `%SYS-5-CONFIG_I` changes: the controller rule ignores them
    "7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d27": (None, 0),
}
# Correlation rules: `civicshield detect` runs them over their base rules' matches; continuous
# detection does not (test_rulepack_city.py tests them).
CORRELATIONS = {f"7f3d1c2a-5b8e-4f61-9c0d-2a6e8b4f1d{n}" for n in ("06", "08", "10", "19", "22")}


@pytest.fixture(scope="module")
def matches(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    tmp = tmp_path_factory.mktemp("pack")
    settings = make_settings(tmp / "var", feeds_path=tmp / "none", rule_pack_enabled=True)
    live = live_rules(settings)
    assert {r.rule.id for r in live.ruleset.rules} == set(EXPECTED)
    assert "no SigmaHQ rules" in live.note
    found = [evaluate_batch(live.ruleset, r.frame, r.dataset) for r in demo_frames(NOW)]
    return pl.concat([f for f in found if f.height], how="diagonal_relaxed")


def test_every_pack_rule_compiles_with_author_and_false_positive_note() -> None:
    files = list(iter_rule_files(rule_pack_dir()))
    assert len(files) == len(EXPECTED) + len(CORRELATIONS)
    for path in files:
        text = Path(path).read_text(encoding="utf-8")
        assert "author: CivicShield" in text and "falsepositives:" in text, path


@pytest.mark.parametrize("rule_id", sorted(EXPECTED))
def test_each_rule_fires_on_its_scenario_only(matches: pl.DataFrame, rule_id: str) -> None:
    dataset, count = EXPECTED[rule_id]
    mine = matches.filter(pl.col("rule_id") == rule_id)
    assert mine.height == count
    if count:
        assert set(mine.get_column("event.dataset")) == {dataset}
        assert set(mine.get_column("author")) == {"CivicShield"}
