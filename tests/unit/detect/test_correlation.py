"""Sigma correlation rules on constructed matches: every v2 type, group-by with aliases,
timespan edges, one alert per burst, conditions, null group-by values, compile failures."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from civicshield.detect import load_rules
from civicshield.detect.engine.correlation import (
    ALERT_SCHEMA,
    CompiledCorrelation,
    Condition,
    compile_correlations,
    condition_from_mapping,
    correlate,
)

SHARED_RULES = (Path(__file__).parents[3] / ".." / "shared" / "data" / "sigma" / "rules").resolve()
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
FAILED = "aaaaaaaa-0000-4000-8000-000000000001"
SUCCESS = "aaaaaaaa-0000-4000-8000-000000000002"
RECON = "aaaaaaaa-0000-4000-8000-000000000003"
CORR = "cccccccc-0000-4000-8000-000000000001"


def base_rule(rule_id: str, name: str, event_id: int) -> str:
    return (
        f"title: {name}\nid: {rule_id}\nname: {name}\nstatus: test\n"
        "logsource:\n    product: windows\n    service: security\n"
        f"detection:\n    selection:\n        EventID: {event_id}\n    condition: selection\n"
        "level: low\n"
    )


BASES = (
    base_rule(FAILED, "failed_login", 4625)
    + "---\n"
    + base_rule(SUCCESS, "successful_login", 4624)
    + "---\n"
    + base_rule(RECON, "recon_cmd", 1)
)


def correlation(body: str, *, rule_id: str = CORR) -> str:
    return (
        f"title: Test correlation\nid: {rule_id}\nstatus: test\nauthor: CivicShield tests\n"
        "tags:\n    - attack.credential-access\n    - attack.t1110\n"
        f"correlation:\n{body}level: high\n"
    )


def compile_one(tmp_path: Path, body: str) -> CompiledCorrelation:
    (tmp_path / "rules.yml").write_text(BASES + "---\n" + correlation(body), encoding="utf-8")
    report = load_rules([tmp_path / "rules.yml"])
    assert not report.problems, report.problems
    compiled, unsupported = compile_correlations(report.rules)
    assert not unsupported, unsupported
    assert len(compiled) == 1
    return compiled[0]


def reject_reason(tmp_path: Path, text: str) -> str:
    (tmp_path / "rules.yml").write_text(text, encoding="utf-8")
    report = load_rules([tmp_path / "rules.yml"])
    compiled, unsupported = compile_correlations(report.rules)
    assert not compiled
    assert len(unsupported) == 1
    return unsupported[0].reason


def matches(rows: list[tuple[str, float, dict[str, str | None]]]) -> pl.DataFrame:
    """(rule id, seconds after T0, fields) → the frame `correlate` takes; keys are `e<n>`."""
    names = sorted({k for _, _, fields in rows for k in fields})
    data: dict[str, list[object]] = {
        "rule_id": [r for r, _, _ in rows],
        "time": [T0 + timedelta(seconds=s) for _, s, _ in rows],
        "event_key": [f"e{n}" for n in range(len(rows))],
    }
    for name in names:
        data[name] = [fields.get(name) for _, _, fields in rows]
    schema = {
        "rule_id": pl.String,
        "time": pl.Datetime("us", "UTC"),
        "event_key": pl.String,
        **dict.fromkeys(names, pl.String),
    }
    return pl.DataFrame(data, schema=schema)


def failed(seconds: float, user: str | None = "bob", **more: str) -> tuple[str, float, dict]:
    return (FAILED, seconds, {"TargetUserName": user, **more})


EVENT_COUNT = """\
    type: event_count
    rules:
        - failed_login
    group-by:
        - TargetUserName
    timespan: 60s
    condition:
        gte: 3
"""


# --- compile --------------------------------------------------------------------------------


def test_compile_resolves_names_and_exposes_fields(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    assert corr.type == "event_count"
    assert corr.base_rules == (FAILED,)
    assert corr.group_by == ("TargetUserName",)
    assert corr.timespan_s == 60
    assert str(corr.condition) == "gte 3"
    assert corr.generate is False
    assert corr.fields(FAILED) == {"TargetUserName"}
    assert corr.fields(SUCCESS) == set()


def test_compile_aliases_map_fields_per_rule(tmp_path: Path) -> None:
    corr = compile_one(
        tmp_path,
        f"""\
    type: temporal
    rules:
        - failed_login
        - {SUCCESS}
    group-by:
        - user
        - Computer
    timespan: 5m
    generate: true
    aliases:
        user:
            failed_login: TargetUserName
            successful_login: SubjectUserName
""",
    )
    assert corr.base_rules == (FAILED, SUCCESS)
    assert corr.generate is True
    assert corr.fields(FAILED) == {"TargetUserName", "Computer"}
    assert corr.fields(SUCCESS) == {"SubjectUserName", "Computer"}
    assert corr.condition == Condition((("gte", 2.0),))  # pySigma's default: all rules


def test_compile_value_count_field(tmp_path: Path) -> None:
    corr = compile_one(
        tmp_path,
        """\
    type: value_count
    rules: failed_login
    group-by: [IpAddress]
    timespan: 1h
    condition:
        field: TargetUserName
        gt: 2
""",
    )
    assert corr.timespan_s == 3600
    assert corr.value_field == "TargetUserName"
    assert corr.fields(FAILED) == {"IpAddress", "TargetUserName"}


def test_missing_reference_is_unsupported_with_reason(tmp_path: Path) -> None:
    text = BASES + "---\n" + correlation(EVENT_COUNT.replace("failed_login", "no_such_rule"))
    assert "unknown rule 'no_such_rule'" in reject_reason(tmp_path, text)


def test_chained_correlation_is_unsupported_with_reason(tmp_path: Path) -> None:
    inner = correlation(EVENT_COUNT, rule_id="cccccccc-0000-4000-8000-000000000009").replace(
        "title: Test correlation\n", "title: Inner\nname: many_failed\n"
    )
    outer = correlation(
        """\
    type: temporal_ordered
    rules: [many_failed, successful_login]
    group-by: [TargetUserName]
    timespan: 10m
"""
    )
    (tmp_path / "rules.yml").write_text(BASES + "---\n" + inner + "---\n" + outer, "utf-8")
    compiled, unsupported = compile_correlations(load_rules([tmp_path / "rules.yml"]).rules)
    assert [c.rule.id for c in compiled] == ["cccccccc-0000-4000-8000-000000000009"]
    assert len(unsupported) == 1
    assert "chained correlations are not supported" in unsupported[0].reason


def test_non_spec_type_is_unsupported(tmp_path: Path) -> None:
    body = EVENT_COUNT.replace("event_count", "value_sum").replace(
        "gte: 3", "gte: 3\n        field: Bytes"
    )
    assert "value_sum" in reject_reason(tmp_path, BASES + "---\n" + correlation(body))


def test_condition_mapping_with_range() -> None:
    cond = condition_from_mapping({"gt": 100, "lte": 200, "field": "User"})
    assert [n for n in (100, 101, 200, 201) if cond.holds(n)] == [101, 200]
    with pytest.raises(ValueError, match="unknown"):
        condition_from_mapping({"between": 3})
    with pytest.raises(ValueError, match="no operator"):
        condition_from_mapping({"field": "User"})


# --- event_count, windows and de-duplication ------------------------------------------------


def test_event_count_one_alert_per_burst(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    # ten failures one second apart: eight overlapping windows qualify, one alert
    out = correlate([corr], matches([failed(s) for s in range(10)]))
    assert out.schema == pl.Schema(ALERT_SCHEMA)
    assert out.height == 1
    row = out.row(0, named=True)
    assert row["rule_id"] == CORR
    assert row["author"] == "CivicShield tests"
    assert row["level"] == "high"
    assert row["tags"] == ["attack.credential-access", "attack.t1110"]
    assert json.loads(row["group"]) == {"TargetUserName": "bob"}
    assert row["count"] == 10
    assert row["event_keys"] == [f"e{n}" for n in range(10)]
    assert (row["first_time"], row["last_time"]) == (T0, T0 + timedelta(seconds=9))


def test_event_count_two_separated_bursts_two_alerts(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    out = correlate([corr], matches([failed(s) for s in (0, 1, 2, 500, 501, 502)]))
    assert out["event_keys"].to_list() == [["e0", "e1", "e2"], ["e3", "e4", "e5"]]


def test_timespan_edge_exactly_at_span_is_inside(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    out = correlate([corr], matches([failed(0), failed(30), failed(60)]))
    assert out["count"].to_list() == [3]


def test_timespan_edge_one_beyond_is_outside(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    assert correlate([corr], matches([failed(0), failed(30), failed(61)])).height == 0
    # and a microsecond beyond is still beyond
    assert correlate([corr], matches([failed(0), failed(30), failed(60.000001)])).height == 0


def test_next_alert_starts_only_after_previous_window_closed(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    # first alert's window is [0, 60]; 60 is inside it; 61..63 form a second alert
    seconds = [0, 10, 20, 60, 61, 62, 63]
    out = correlate([corr], matches([failed(s) for s in seconds]))
    assert out["count"].to_list() == [4, 3]
    assert out["event_keys"].to_list()[1] == ["e4", "e5", "e6"]


def test_long_burst_gives_one_alert_per_timespan(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    # 150 s of one failure per second: windows [0,60], [61,121], [122,149]
    out = correlate([corr], matches([failed(s) for s in range(150)]))
    assert out["count"].to_list() == [61, 61, 28]
    assert out["last_time"].to_list()[0] == T0 + timedelta(seconds=60)


def test_event_count_groups_separately(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    rows = [failed(s, "bob") for s in (0, 1)] + [failed(s, "eve") for s in (2, 3, 4)]
    out = correlate([corr], matches(rows))
    assert [json.loads(g) for g in out["group"]] == [{"TargetUserName": "eve"}]


def test_event_count_several_rules_count_an_event_once(tmp_path: Path) -> None:
    corr = compile_one(
        tmp_path,
        EVENT_COUNT.replace("- failed_login", "- failed_login\n" + " " * 8 + "- successful_login"),
    )
    frame = matches([failed(0), failed(1), (SUCCESS, 2, {"TargetUserName": "bob"})])
    assert correlate([corr], frame)["count"].to_list() == [3]
    # the same event (same key) matched by both rules is one event, so 2 < 3
    same = frame.with_columns(pl.Series("event_key", ["e0", "e1", "e1"]))
    assert correlate([corr], same).height == 0


def test_null_group_values_dropped_by_default_or_grouped(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    frame = matches([failed(s, None) for s in (0, 1, 2)] + [failed(3, "bob")])
    assert correlate([corr], frame).height == 0
    grouped = correlate([corr], frame, null_groups="group")
    assert [json.loads(g) for g in grouped["group"]] == [{"TargetUserName": None}]
    assert grouped["count"].to_list() == [3]


def test_no_group_by_is_one_group(tmp_path: Path) -> None:
    corr = compile_one(
        tmp_path, EVENT_COUNT.replace("    group-by:\n        - TargetUserName\n", "")
    )
    out = correlate([corr], matches([failed(0, "a"), failed(1, "b"), failed(2, None)]))
    assert out["group"].to_list() == ["{}"]


def test_matches_without_time_are_ignored_and_naive_time_is_utc(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    frame = matches([failed(s) for s in (0, 1, 2)])
    naive = frame.with_columns(pl.col("time").dt.replace_time_zone(None))
    assert correlate([corr], naive)["first_time"].to_list() == [T0]
    nulls = frame.with_columns(
        pl.when(pl.col("event_key") == "e2").then(None).otherwise(pl.col("time")).alias("time")
    )
    assert correlate([corr], nulls).height == 0


def test_missing_field_column_is_an_error(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    frame = matches([failed(0)]).drop("TargetUserName")
    with pytest.raises(ValueError, match="TargetUserName"):
        correlate([corr], frame)


def test_no_matches_no_alerts(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, EVENT_COUNT)
    empty = matches([failed(0)]).clear()
    out = correlate([corr], empty)
    assert out.height == 0
    assert out.schema == pl.Schema(ALERT_SCHEMA)


# --- conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"gte": 3}, [3]),
        ({"gt": 3}, []),
        ({"lt": 3}, [2]),  # the 3-event burst does not fire; the 2-event group does
        ({"lte": 2}, [2]),
        ({"eq": 2}, [2]),
        ({"neq": 3}, [2]),
        ({"gt": 1, "lte": 2}, [2]),  # a range, as the spec allows
        ({"gte": 3, "lt": 5}, [3]),
    ],
)
def test_conditions(tmp_path: Path, condition: dict[str, int], expected: list[int]) -> None:
    corr = dataclasses.replace(
        compile_one(tmp_path, EVENT_COUNT), condition=condition_from_mapping(condition)
    )
    rows = [failed(s, "bob") for s in (0, 1, 2)] + [failed(s, "eve") for s in (0, 1)]
    assert sorted(correlate([corr], matches(rows))["count"].to_list()) == expected


def test_upper_bound_windows_tile_the_matches(tmp_path: Path) -> None:
    corr = dataclasses.replace(
        compile_one(tmp_path, EVENT_COUNT), condition=condition_from_mapping({"lt": 2})
    )
    # [0, 60] holds 0 and 30 (2: no); the tail [30, 90] is not a window of its own;
    # the next window starts at 100 and holds one match (fires)
    out = correlate([corr], matches([failed(0), failed(30), failed(100)]))
    assert out["event_keys"].to_list() == [["e2"]]
    assert not dataclasses.replace(corr, condition=Condition((("lt", 2.0),))).condition.sliding
    assert Condition((("gt", 1.0), ("gte", 2.0))).sliding


# --- value_count ------------------------------------------------------------------------------

VALUE_COUNT = """\
    type: value_count
    rules:
        - failed_login
    group-by:
        - IpAddress
    timespan: 60s
    condition:
        field: TargetUserName
        gte: 3
"""


def test_value_count_counts_distinct_values(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, VALUE_COUNT)
    ip = {"IpAddress": "10.0.0.9"}
    rows = [failed(s, u, **ip) for s, u in [(0, "a"), (1, "a"), (2, "b"), (3, "b"), (4, None)]]
    assert correlate([corr], matches(rows)).height == 0
    rows.append(failed(5, "c", **ip))
    out = correlate([corr], matches(rows))
    assert out["count"].to_list() == [3]
    # the match without a value adds nothing and is not part of the alert
    assert out["event_keys"].to_list() == [["e0", "e1", "e2", "e3", "e5"]]


def test_value_count_window_slides_and_dedups(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, VALUE_COUNT)
    ip = {"IpAddress": "10.0.0.9"}
    # a, b at 0..1; c at 70: window [0,60] has 2 values, [1,61] too, [70,130] has 1 → none;
    # then d, e, f within 60 s of 200 → one alert; g at 230 belongs to the same alert
    seq = [(0, "a"), (1, "b"), (70, "c"), (200, "d"), (210, "e"), (220, "f"), (230, "g")]
    out = correlate([corr], matches([failed(s, u, **ip) for s, u in seq]))
    assert out["count"].to_list() == [4]
    assert out["first_time"].to_list() == [T0 + timedelta(seconds=200)]


def test_value_count_lt_tiles_windows(tmp_path: Path) -> None:
    corr = dataclasses.replace(
        compile_one(tmp_path, VALUE_COUNT), condition=condition_from_mapping({"lt": 2})
    )
    ip = {"IpAddress": "h"}
    seq = [(0, "a"), (1, "b"), (2, "a"), (100, "c"), (101, "c")]
    out = correlate([corr], matches([failed(s, u, **ip) for s, u in seq]))
    # [0,60]: a,b,a (2 distinct, no); [100,160]: c,c (1, fires)
    assert out["event_keys"].to_list() == [["e3", "e4"]]


# --- temporal and temporal_ordered --------------------------------------------------------

ALIASES = """\
    group-by:
        - user
    timespan: 60s
    aliases:
        user:
            failed_login: TargetUserName
            successful_login: SubjectUserName
            recon_cmd: User
"""


def temporal(kind: str) -> str:
    return (
        f"    type: {kind}\n    rules:\n        - failed_login\n        - successful_login\n"
        "        - recon_cmd\n" + ALIASES
    )


def fail(s: float, user: str) -> tuple[str, float, dict[str, str | None]]:
    return (FAILED, s, {"TargetUserName": user})


def success(s: float, user: str) -> tuple[str, float, dict[str, str | None]]:
    return (SUCCESS, s, {"SubjectUserName": user})


def recon(s: float, user: str) -> tuple[str, float, dict[str, str | None]]:
    return (RECON, s, {"User": user})


def test_temporal_all_rules_in_any_order_via_aliases(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal"))
    out = correlate([corr], matches([recon(0, "bob"), success(10, "bob"), fail(20, "bob")]))
    assert out["count"].to_list() == [3]
    assert json.loads(out["group"][0]) == {"user": "bob"}


def test_temporal_needs_the_same_group(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal"))
    rows = [recon(0, "bob"), success(10, "eve"), fail(20, "bob")]
    assert correlate([corr], matches(rows)).height == 0


def test_temporal_needs_all_within_timespan(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal"))
    inside = [recon(0, "bob"), success(10, "bob"), fail(60, "bob")]
    beyond = [recon(0, "bob"), success(10, "bob"), fail(61, "bob")]
    assert correlate([corr], matches(inside)).height == 1
    assert correlate([corr], matches(beyond)).height == 0


def test_temporal_one_alert_per_burst_and_two_bursts(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal"))
    burst = [recon(0, "u"), fail(1, "u"), success(2, "u"), recon(3, "u"), fail(4, "u")]
    again = [recon(300, "u"), fail(301, "u"), success(302, "u")]
    assert correlate([corr], matches(burst)).height == 1
    assert correlate([corr], matches(burst + again))["count"].to_list() == [3, 3]


def test_temporal_condition_counts_distinct_rules(tmp_path: Path) -> None:
    corr = dataclasses.replace(
        compile_one(tmp_path, temporal("temporal")), condition=condition_from_mapping({"gte": 2})
    )
    out = correlate([corr], matches([fail(0, "u"), fail(1, "u"), recon(5, "u")]))
    assert out["count"].to_list() == [2]


def test_temporal_ordered_requires_listed_order(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal_ordered"))
    in_order = [fail(0, "u"), success(10, "u"), recon(20, "u")]
    wrong = [success(0, "u"), fail(10, "u"), recon(20, "u")]
    assert correlate([corr], matches(in_order))["count"].to_list() == [3]
    assert correlate([corr], matches(wrong)).height == 0


def test_temporal_ordered_finds_order_among_noise(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal_ordered"))
    rows = [success(0, "u"), recon(1, "u"), fail(2, "u"), success(3, "u"), recon(4, "u")]
    out = correlate([corr], matches(rows))
    # the window anchored at the first match (0) already holds fail→success→recon from 2 on
    assert out["count"].to_list() == [3]
    assert out["first_time"].to_list() == [T0]


def test_temporal_ordered_equal_times_count_as_in_order(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal_ordered"))
    out = correlate([corr], matches([recon(5, "u"), success(5, "u"), fail(5, "u")]))
    assert out["count"].to_list() == [3]


def test_temporal_ordered_timespan_edges(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal_ordered"))
    at_edge = [fail(0, "u"), success(30, "u"), recon(60, "u")]
    beyond = [fail(0, "u"), success(30, "u"), recon(60.5, "u")]
    assert correlate([corr], matches(at_edge)).height == 1
    assert correlate([corr], matches(beyond)).height == 0


def test_temporal_ordered_one_alert_per_burst(tmp_path: Path) -> None:
    corr = compile_one(tmp_path, temporal("temporal_ordered"))
    rows = [fail(s, "u") for s in range(5)] + [success(5, "u"), recon(6, "u"), recon(7, "u")]
    rows += [fail(100, "u"), success(101, "u"), recon(102, "u")]
    out = correlate([corr], matches(rows))
    assert out["count"].to_list() == [3, 3]
    assert len(out["event_keys"][0]) == 8


def test_several_correlations_in_one_call(tmp_path: Path) -> None:
    first = compile_one(tmp_path, EVENT_COUNT)
    second = dataclasses.replace(first, rule=dataclasses.replace(first.rule, id="other"))
    out = correlate([first, second], matches([failed(s) for s in range(3)]))
    assert out["rule_id"].to_list() == [CORR, "other"]


# --- the shared SigmaHQ tree ----------------------------------------------------------------


@pytest.mark.slow
def test_every_shared_correlation_rule_compiles_or_has_a_reason() -> None:
    if not SHARED_RULES.is_dir():
        pytest.skip(f"shared SigmaHQ rules absent: {SHARED_RULES}")
    rules = load_rules([SHARED_RULES]).rules
    assert rules, "the shared tree loaded no rules at all"
    total = sum(r.kind == "correlation" for r in rules)
    compiled, unsupported = compile_correlations(rules)
    assert len(compiled) + len(unsupported) == total
    assert all(u.reason for u in unsupported)
    assert {c.rule.id for c in compiled}.isdisjoint(u.rule.id for u in unsupported)
