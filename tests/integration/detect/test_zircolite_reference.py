"""The engine against Zircolite's reference detections on the shared Windows attack events.

The set of rules whose (rule, line) pairs differ is pinned: a regression or an improvement both
change it (update `DIFFERING` and `docs/detect-semantics.md` together)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicshield.detect import load_rules, select
from civicshield.detect.engine import compile_rules, evaluate
from civicshield.detect.readers import read_jsonl
from tests.harness import require_or_skip

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
EVENTS = DATA / "logs" / "evtx-attack-samples" / "events.jsonl"
REFERENCE = DATA / "logs" / "evtx-attack-samples" / "zircolite_reference.json"
RULES = DATA / "sigma" / "rules" / "windows"

# Rules whose (rule, line) pairs differ from Zircolite's today (measured; see the docs).
DIFFERING = {
    # we match lines Zircolite does not
    "0dba975d-a193-4ed1-a067-424df57570d1",
    "4f84b697-c9ed-4420-8ab5-e09af5b2345d",
    "5bed80b6-b3e8-428e-a3ae-d3c757589e41",
    "c7e91a02-d771-4a6d-a700-42587e0b1095",
    "cdc8da7d-c303-42f8-b08c-b4ab47230263",
    "ebfe73c2-5bc9-4ed9-aaa8-8b54b2b4777d",
    "ed74fe75-7594-4b4b-ae38-e38e3fd2eb23",
    # Zircolite matches lines we do not
    "1cf465a1-2609-4c15-9b66-c32dbe4bfd67",
    "259e5a6a-b8d2-4c38-86e2-26c5e651361d",
    "2aa0a6b4-a865-495b-ab51-c28249537b75",
    "52753ea4-b3a0-4365-910d-36cff487b789",
    "576426ad-0131-4001-ae01-be175da0c108",
    "65236ec7-ace0-4f0c-82fd-737b04fd4dcb",
    "69ca12af-119d-44ed-b50f-a47af0ebc364",
    "8c3c76ca-8f8b-4b1d-aaf3-81aebcd367c9",
    "92fa78e7-4d39-45f1-91a3-8b23f3f1088d",
    "93a19907-d4f9-4deb-9f91-aac4692776a6",
    "9e099d99-44c2-42b6-a6d8-54c3545cab29",
    "a5a2d357-1ab8-4675-a967-ef9990a59391",
    "b447f7de-1e53-4cbf-bfb4-f1f6d0b04e4e",
    "b6f91281-20aa-446a-b986-38a92813a18f",
    "b8fd0e93-ff58-4cbd-8f48-1c114e342e62",
    "f0540f7e-2db3-4432-b9e0-3965486744bc",
    "fc4f4817-0c53-4683-a4ee-b17a64bc1039",
}


@pytest.mark.slow
def test_matches_agree_with_zircolite_except_pinned_rules() -> None:
    if not (EVENTS.exists() and REFERENCE.exists() and RULES.is_dir()):
        require_or_skip(FileNotFoundError(str(DATA)), "the shared Windows events and rules")
    ruleset = compile_rules(select(load_rules([RULES]).rules))
    ours: set[tuple[str, int]] = set()
    for batch in read_jsonl(EVENTS, ruleset.fields, values=ruleset.needs_values):
        assert not batch.bad_lines
        lines = batch.frame["_line"].to_list()
        matches = evaluate(ruleset, batch.frame)
        for rule_id, index in zip(matches["rule_id"], matches["event_index"], strict=True):
            ours.add((rule_id, lines[index]))
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    theirs = {(r["rule_id"], line) for r in reference["rules"] for line in r["lines"]}
    assert len(theirs) == reference["detections"]
    differing = {rule for rule, _ in ours ^ theirs}
    assert differing == DIFFERING
    assert len(ours & theirs) == 819
