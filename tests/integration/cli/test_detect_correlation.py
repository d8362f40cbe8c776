"""`civicshield detect` with Sigma correlation rules: alerts over constructed events with
`SystemTime`, across files, `generate`, the selection, and the compiled rule cache."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.detect.rulefiles import write_rule

from .conftest import Cli, cli_env

FAILED = "aaaaaaaa-0000-4000-8000-000000000001"
SUCCESS = "aaaaaaaa-0000-4000-8000-000000000002"
CORR = "cccccccc-0000-4000-8000-000000000001"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    return Cli(cli_env(tmp_path / "var", url), tmp_path / "var", url)


def base_rule(rule_id: str, name: str, event_id: int, level: str = "low") -> str:
    return (
        f"title: {name}\nid: {rule_id}\nname: {name}\nstatus: test\nauthor: Base author\n"
        "logsource:\n    product: windows\n    service: security\n"
        f"detection:\n    selection:\n        EventID: {event_id}\n    condition: selection\n"
        f"level: {level}\n"
    )


def correlation(*, generate: bool | None = None, level: str = "high") -> str:
    generate_line = "" if generate is None else f"    generate: {str(generate).lower()}\n"
    return (
        f"title: Brute force\nid: {CORR}\nstatus: test\nauthor: Correlation author\n"
        "tags:\n    - attack.credential-access\n    - attack.t1110\n"
        "correlation:\n    type: event_count\n    rules:\n        - failed_login\n"
        "    group-by:\n        - TargetUserName\n    timespan: 5m\n"
        f"    condition:\n        gte: 3\n{generate_line}level: {level}\n"
    )


def write_rules(root: Path, **options: Any) -> Path:
    rules = root / "rules"
    write_rule(rules, "windows/failed.yml", base_rule(FAILED, "failed_login", 4625))
    write_rule(rules, "windows/success.yml", base_rule(SUCCESS, "successful_login", 4624))
    write_rule(rules, "correlations/brute.yml", correlation(**options))
    return rules


def event(event_id: int, user: str, seconds: float) -> str:
    when = (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        {"Channel": "Security", "EventID": event_id, "TargetUserName": user, "SystemTime": when}
    )


def write_events(path: Path, rows: Sequence[tuple[int, str, float]]) -> Path:
    path.write_text("".join(event(*row) + "\n" for row in rows), encoding="utf-8")
    return path


BURST = [
    (4625, "bob", 0),  # line 1
    (4625, "alice", 5),  # line 2: alice has one failure only
    (4625, "bob", 10),  # line 3
    (4624, "bob", 20),  # line 4: a success, not counted
    (4625, "bob", 30),  # line 5
    (4625, "bob", 40),  # line 6
    (4625, "carol", 0),  # line 7: carol's three failures are an hour apart
    (4625, "carol", 3600),
    (4625, "carol", 7200),
]


def records(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.mark.parametrize("generate", [None, False], ids=["default", "explicit"])
def test_event_count_alert_and_generate_false_hides_base_matches(
    cli: Cli, tmp_path: Path, generate: bool | None
) -> None:
    rules = write_rules(tmp_path, generate=generate)
    events = write_events(tmp_path / "events.jsonl", BURST)
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    assert records(result.stdout) == [
        # the success rule is no base rule of a correlation: its own match is printed
        {
            "rule_id": SUCCESS,
            "rule_title": "successful_login",
            "level": "low",
            "author": "Base author",
            "tags": [],
            "source": str(events),
            "line": 4,
        },
        # base-rule matches go to the correlation, which alerts once at the end
        {
            "rule_id": CORR,
            "rule_title": "Brute force",
            "level": "high",
            "author": "Correlation author",
            "tags": ["attack.credential-access", "attack.t1110"],
            "source": str(events),
            "line": 1,
            "type": "event_count",
            "group": {"TargetUserName": "bob"},
            "first_time": "2026-03-01T12:00:00+00:00",
            "last_time": "2026-03-01T12:00:40+00:00",
            "count": 4,
            "event_keys": [f"{events}:{n}" for n in (1, 3, 5, 6)],
        },
    ]
    assert "Brute force" in result.stderr  # summary


def test_generate_true_keeps_base_matches(cli: Cli, tmp_path: Path) -> None:
    rules = write_rules(tmp_path, generate=True)
    events = write_events(tmp_path / "events.jsonl", BURST)
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    found = records(result.stdout)
    failed_lines = [r["line"] for r in found if r["rule_id"] == FAILED]
    assert failed_lines == [1, 2, 3, 5, 6, 7, 8, 9]
    assert [r["count"] for r in found if r["rule_id"] == CORR] == [4]


def test_a_burst_split_across_files_is_one_alert(cli: Cli, tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    first = write_events(tmp_path / "a.jsonl", [(4625, "bob", 0), (4625, "bob", 10)])
    second = write_events(tmp_path / "b.jsonl", [(4625, "bob", 20), (4625, "dave", 20)])
    result = cli.ok("detect", str(first), str(second), "--rules", str(rules), "--format", "jsonl")
    (alert,) = records(result.stdout)
    assert alert["count"] == 3
    assert alert["event_keys"] == [f"{first}:1", f"{first}:2", f"{second}:1"]
    assert (alert["source"], alert["line"]) == (str(first), 1)


def test_events_without_time_are_reported_and_not_correlated(cli: Cli, tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    events = tmp_path / "events.jsonl"
    line = {"Channel": "Security", "EventID": 4625, "TargetUserName": "bob"}
    events.write_text((json.dumps(line) + "\n") * 3, encoding="utf-8")
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    assert result.stdout == ""
    assert "3 base-rule matches have no event time" in result.stderr


def test_selection_keeps_base_rules_of_selected_correlations(cli: Cli, tmp_path: Path) -> None:
    rules = write_rules(tmp_path, generate=True)
    events = write_events(tmp_path / "events.jsonl", BURST)
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    high = records(cli.ok(*args, "--min-level", "high").stdout)
    # the low base rule still runs for the correlation, but its own matches are not selected
    assert [r["rule_id"] for r in high] == [CORR]
    # leaving the correlation out makes the base rules plain rules again
    plain = records(cli.ok(*args, "--exclude-folder", "correlations").stdout)
    assert CORR not in {r["rule_id"] for r in plain}
    assert [r["line"] for r in plain if r["rule_id"] == FAILED] == [1, 2, 3, 5, 6, 7, 8, 9]


def test_correlation_over_a_rule_that_does_not_compile_is_reported(
    cli: Cli, tmp_path: Path
) -> None:
    rules = write_rules(tmp_path)
    unmapped = base_rule(FAILED, "failed_login", 4625).replace(
        "service: security", "service: no-such-service"
    )
    write_rule(rules, "windows/failed.yml", unmapped)
    events = write_events(tmp_path / "events.jsonl", BURST)
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    assert CORR not in result.stdout
    assert f"correlations/brute.yml: base rule not compiled ({FAILED}:" in result.stderr


def test_warm_run_parses_only_the_correlation_files(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = write_rules(tmp_path)
    events = write_events(tmp_path / "events.jsonl", BURST)
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    cold = cli.ok(*args)
    assert "compiled rule cache: saved" in cold.stderr

    import civicshield.detect

    real = civicshield.detect.load_rules
    parsed: list[list[str]] = []

    def recording(paths: list[Path]) -> Any:
        parsed.append(sorted(Path(p).name for p in paths))
        return real(paths)

    monkeypatch.setattr(civicshield.detect, "load_rules", recording)
    warm = cli.ok(*args)
    assert "compiled rule cache: hit" in warm.stderr
    assert warm.stdout == cold.stdout
    # the correlation names `failed_login`: only the file mentioning that name is added
    assert parsed == [["brute.yml"], ["failed.yml"]]


def test_event_time_from_ecs_timestamp_and_other_offsets(cli: Cli, tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    events = tmp_path / "events.jsonl"
    stamps = ["2026-03-01T12:00:00Z", "2026-03-01T13:00:30+01:00", "2026-03-01 12:01:00"]
    lines = [
        {"Channel": "Security", "EventID": 4625, "TargetUserName": "bob", "@timestamp": stamp}
        for stamp in stamps
    ]
    events.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    (alert,) = records(result.stdout)
    assert (alert["first_time"], alert["last_time"]) == (
        "2026-03-01T12:00:00+00:00",
        "2026-03-01T12:01:00+00:00",
    )
    assert alert["count"] == 3


def test_winlogbeat_correlation_reads_mapped_group_by_fields(cli: Cli, tmp_path: Path) -> None:
    rules = write_rules(tmp_path)
    events = tmp_path / "beats.jsonl"
    lines = [
        {
            "@timestamp": f"2026-03-01T12:00:0{n}Z",
            "winlog": {
                "channel": "Security",
                "event_id": 4625,
                "event_data": {"TargetUserName": "bob"},
            },
        }
        for n in range(3)
    ]
    events.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    args = ("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    result = cli.ok(*args, "--mapping", "winlogbeat")
    (alert,) = records(result.stdout)
    assert (alert["group"], alert["count"]) == ({"TargetUserName": "bob"}, 3)
    assert cli.ok(*args).stdout == ""  # the native mapping does not read this shape
