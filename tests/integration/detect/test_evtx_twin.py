"""EVTX files against their flattened or nested JSON twins.

* `../shared/data/logs/evtx-attack-samples/evtx/`: 9 original `.evtx` files of `events.jsonl`
  (Zircolite-flattened). Read with `read_evtx`, every record equals its `events.jsonl` line (same
  file, same `EventRecordID`) once Zircolite's own renderings are undone (`ZIRCOLITE`, counted and
  pinned), and `rules/windows` matches the same (rule, file, EventRecordID) on both, except the
  pinned differences explained in `MATCHES_DIFFER`.
* `../shared/data/sigma/regression_data/`: 19 `.evtx` files beside their nested JSON twin: the
  same flat events (up to trailing whitespace, see its SOURCE.md) and the same matches of the
  folder's rule.
"""

from __future__ import annotations

import ast
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from civicshield.detect import load_rules, select
from civicshield.detect.engine import compile_rules, evaluate
from civicshield.detect.readers import batch_from_lines
from civicshield.detect.readers.evtx import read_evtx, read_evtx_json
from tests.harness import require_or_skip

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"
SAMPLES = DATA / "logs" / "evtx-attack-samples"
EVENTS = SAMPLES / "events.jsonl"
EVTX_DIR = SAMPLES / "evtx"
SIGMA = DATA / "sigma"
RULES = SIGMA / "rules" / "windows"
REGRESSION = SIGMA / "regression_data"
SOURCE_RECORDS = 211  # SOURCE.md: 8+4+14+4+1+3+73+101+3 records in the 9 files

# What Zircolite's flattening does that `flatten_event` does not, and how often it happens in
# the 9 files (measured; a change in either flattening changes these counts).
ZIRCOLITE = {
    # it drops empty strings; we keep them (Sigma's `Field: ''` must see them)
    "empty string dropped": 188,
    # Security 5156's EventData `ProcessID` collides with System's: both keep System's value,
    # we also keep the payload's as `EventData_ProcessID`
    "payload collision kept as EventData_*": 63,
    # it adds `SHA1` (etc.) split from Sysmon's `Hashes`
    "hash split from Hashes": 19,
    # it renders unnamed <Data> as `Message`, a Python list repr; we write `Data`, joined by \n
    "unnamed Data as Message": 1,
}
_RENAMED = {"TargetFilename": "TargetFileName", "SamAccountName": "SAMAccountName"}
_HASH_KEYS = {"MD5", "SHA1", "SHA256", "IMPHASH"}

# (rule id, file, EventRecordID) found on one side only. Empty: measured equal.
MATCHES_DIFFER: set[tuple[str, str, int]] = set()


def require(*paths: Path) -> None:
    for path in paths:
        if not path.exists():
            require_or_skip(FileNotFoundError(str(path)), "the shared EVTX samples and rules")


def evtx_files() -> list[Path]:
    require(EVENTS, EVTX_DIR)
    return sorted(EVTX_DIR.rglob("*.evtx"))


def reference_lines(names: set[str]) -> list[tuple[int, bytes]]:
    """(line number, text) of the `events.jsonl` lines that came from the files `names`."""
    with EVENTS.open("rb") as handle:
        return [
            (number, raw)
            for number, raw in enumerate(handle, start=1)
            if json.loads(raw)["OriginalLogfile"] in names
        ]


def as_zircolite(ours: dict[str, Any], seen: Counter[str]) -> dict[str, Any]:
    """Our flat event rendered the way Zircolite flattens, counting each kind of change."""
    flat: dict[str, Any] = {}
    for key, value in ours.items():
        if value == "" and not isinstance(value, bool):
            seen["empty string dropped"] += 1
        elif key.startswith(("EventData_", "UserData_")):
            seen["payload collision kept as EventData_*"] += 1
        elif key == "Data":
            seen["unnamed Data as Message"] += 1
            flat["Message"] = value
        else:
            flat[_RENAMED.get(key, key)] = value
    return flat


def undo_zircolite(theirs: dict[str, Any], seen: Counter[str]) -> dict[str, Any]:
    flat = {k: v for k, v in theirs.items() if k != "OriginalLogfile"}
    hashes = dict(part.split("=", 1) for part in str(flat.get("Hashes", "")).split(",") if part)
    for key in _HASH_KEYS & flat.keys():
        assert flat.pop(key) == hashes[key]  # the split adds nothing of its own
        seen["hash split from Hashes"] += 1
    message = flat.get("Message")
    if isinstance(message, str) and message.startswith("["):
        flat["Message"] = "\n".join(str(v) for v in ast.literal_eval(message))
    return flat


def test_evtx_records_equal_their_flattened_lines() -> None:
    files = evtx_files()
    expected: dict[tuple[str, int], dict[str, Any]] = {}
    for _, raw in reference_lines({f.name for f in files}):
        event = json.loads(raw)
        expected[event["OriginalLogfile"], event["EventRecordID"]] = event
    seen: Counter[str] = Counter()
    read = 0
    for path in files:
        for batch in read_evtx(path, ["EventRecordID"]):
            assert not batch.bad_lines
            for raw in batch.frame["_raw"]:
                ours = json.loads(raw)
                theirs = expected.pop((path.name, ours["EventRecordID"]))
                assert as_zircolite(ours, seen) == undo_zircolite(theirs, seen), path.name
                read += 1
    assert read == SOURCE_RECORDS
    assert not expected  # every line of these files has its record
    assert dict(seen) == ZIRCOLITE


@pytest.mark.slow
def test_rules_match_the_same_events_in_evtx_and_jsonl() -> None:
    files = evtx_files()
    require(RULES)
    ruleset = compile_rules(select(load_rules([RULES]).rules))
    fields = ruleset.fields | {"EventRecordID", "OriginalLogfile"}
    ours: set[tuple[str, str, int]] = set()
    for path in files:
        for batch in read_evtx(path, fields, values=ruleset.needs_values):
            ours |= matched(ruleset, batch.frame, lambda _row, p=path: p.name)
    lines = reference_lines({f.name for f in files})
    batch = batch_from_lines(str(EVENTS), lines, fields, values=ruleset.needs_values)
    logfiles = batch.frame["OriginalLogfile"].to_list()
    theirs = matched(ruleset, batch.frame, lambda row: logfiles[row])
    assert len(theirs) == 18  # (rule, file, record) pairs by 13 rules, measured
    assert ours ^ theirs == MATCHES_DIFFER


def matched(ruleset: Any, frame: Any, file_of: Any) -> set[tuple[str, str, int]]:
    records = frame["EventRecordID"].to_list()
    matches = evaluate(ruleset, frame)
    return {
        (rule_id, file_of(row), int(records[row]))
        for rule_id, row in zip(matches["rule_id"], matches["event_index"], strict=True)
    }


def regression_twins() -> list[Path]:
    if not REGRESSION.is_dir():
        return []
    return sorted(REGRESSION.rglob("*.evtx"))


def _strip(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v.rstrip() if isinstance(v, str) else v for k, v in event.items()}


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.parent.name) for p in regression_twins()]
    or [pytest.param(Path(), marks=pytest.mark.skip(reason=f"{REGRESSION} is absent"))],
)
def test_regression_evtx_gives_its_json_twin_events_and_matches(path: Path) -> None:
    rule_file = SIGMA / path.parent.relative_to(REGRESSION).with_suffix(".yml")
    require(rule_file)
    ruleset = compile_rules(load_rules([rule_file]).rules)
    assert len(ruleset.rules) == 1
    fields = ruleset.fields | {"EventRecordID"}
    found: dict[str, tuple[list[dict[str, Any]], set[tuple[str, int]]]] = {}
    for kind, batches in (
        ("evtx", read_evtx(path, fields, values=ruleset.needs_values)),
        ("json", read_evtx_json(path.with_suffix(".json"), fields, values=ruleset.needs_values)),
    ):
        events: list[dict[str, Any]] = []
        hits: set[tuple[str, int]] = set()
        for batch in batches:
            assert not batch.bad_lines
            events += [json.loads(raw) for raw in batch.frame["_raw"]]
            hits |= {(r, int(e)) for r, _, e in matched(ruleset, batch.frame, lambda _row: "")}
        found[kind] = (events, hits)
    (evtx_events, evtx_hits), (json_events, json_hits) = found["evtx"], found["json"]
    assert [_strip(e) for e in evtx_events] == [_strip(e) for e in json_events]
    assert evtx_hits == json_hits
    assert evtx_hits


def test_regression_twins_are_the_nineteen_of_source_md() -> None:
    twins = regression_twins()
    if not twins:
        require_or_skip(FileNotFoundError(str(REGRESSION)), "the SigmaHQ regression data")
    assert len(twins) == 19
    by_kind: defaultdict[str, int] = defaultdict(int)
    for twin in twins:
        by_kind[twin.parent.parent.name] += 1
    assert by_kind["process_creation"] == 7
