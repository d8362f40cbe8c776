"""The candidate pre-filter never changes a result: on the shared Windows attack events with
`rules/windows`, evaluating with and without it gives the same (rule, line) pairs."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.detect import load_rules
from civicshield.detect.engine import compile_rules, evaluate
from civicshield.detect.readers import read_jsonl

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
EVENTS = SHARED / "logs" / "evtx-attack-samples" / "events.jsonl"
RULES = SHARED / "sigma" / "rules" / "windows"


@pytest.mark.slow
def test_prefilter_gives_the_same_matches_as_running_every_rule_on_every_row() -> None:
    if not EVENTS.exists() or not RULES.exists():
        pytest.skip(f"shared data not found under {SHARED}")
    ruleset = compile_rules(load_rules([RULES]).rules)
    with_filter: set[tuple[str, int]] = set()
    without: set[tuple[str, int]] = set()
    for batch in read_jsonl(EVENTS, ruleset.fields, raw=True, batch_size=2_500):
        lines = batch.frame.get_column("_line").to_list()
        for target, flag in ((with_filter, True), (without, False)):
            matches = evaluate(ruleset, batch.frame, prefilter=flag)
            for rule_id, index in matches.select("rule_id", "event_index").iter_rows():
                target.add((rule_id, lines[index]))
    assert with_filter == without
    assert len(with_filter) == 843
