"""`civicshield detect --mapping tagged --logsource …` on real SigmaHQ rules of products with
no mapping of their own (AWS CloudTrail, GitHub audit, generic proxy): the rules fire on events
of their declared log source, and not on the same events with no log source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import Cli, cli_env

SIGMA_RULES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sigma" / "rules"

# (rule file under the SigmaHQ rules folder, --logsource, an event of that source that fires)
CASES = [
    (
        "cloud/aws/cloudtrail/aws_cloudtrail_bucket_deleted.yml",
        "aws/cloudtrail",
        {"eventSource": "s3.amazonaws.com", "eventName": "DeleteBucket"},  # errorCode absent
    ),
    (
        "application/github/audit/github_delete_action_invoked.yml",
        "github/audit",
        {"action": "repo.destroy", "actor": "someone", "repo": "org/project"},
    ),
    (
        "web/proxy_generic/proxy_telegram_api.yml",
        ":proxy",
        {"cs-host": "api.telegram.org", "c-useragent": "curl/8.5.0", "cs-method": "GET"},
    ),
]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    return Cli(cli_env(tmp_path / "var", url), tmp_path / "var", url)


def sigma_rule(relative: str) -> tuple[Path, str]:
    """The SigmaHQ rule file and its id (skips when the shared rules are not there)."""
    path = SIGMA_RULES / relative
    if not path.is_file():
        pytest.skip(f"shared SigmaHQ rule not available: {path}")
    return path, str(yaml.safe_load(path.read_text(encoding="utf-8"))["id"])


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def fired(cli: Cli, events: Path, rules: list[Path], *options: str) -> list[tuple[str, int]]:
    args = ["detect", str(events), "--format", "jsonl"]
    for rule in rules:
        args += ["--rules", str(rule)]
    result = cli.ok(*args, *options)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    return sorted((r["rule_id"], r["line"]) for r in records)


@pytest.mark.parametrize(("relative", "source", "event"), CASES, ids=["aws", "github", "proxy"])
@pytest.mark.parametrize("mapping", ["tagged", "combined"])
def test_rule_fires_on_events_of_its_declared_source_only(
    cli: Cli, tmp_path: Path, relative: str, source: str, event: dict[str, Any], mapping: str
) -> None:
    rule, rule_id = sigma_rule(relative)
    events = write_events(tmp_path / "events.jsonl", [{"unrelated": "x"}, event])
    options = ("--mapping", mapping)
    assert fired(cli, events, [rule], *options, "--logsource", source) == [(rule_id, 2)]
    assert fired(cli, events, [rule], *options) == []  # no tag: not this rule's log source
    other = "okta/okta" if source != "okta/okta" else "aws/cloudtrail"
    assert fired(cli, events, [rule], *options, "--logsource", other) == []


def test_events_own_tags_route_and_win_over_logsource(cli: Cli, tmp_path: Path) -> None:
    rules = [sigma_rule(relative) for relative, _, _ in CASES]
    aws_id, github_id, proxy_id = (rule_id for _, rule_id in rules)
    aws_event, github_event, proxy_event = (event for _, _, event in CASES)
    events = write_events(
        tmp_path / "mixed.jsonl",
        [
            {**aws_event, "logsource": {"product": "AWS", "service": "CloudTrail"}},  # nested
            {**github_event, "logsource.product": "github", "logsource.service": "audit"},
            {**proxy_event, "logsource.category": "proxy"},
            aws_event,  # untagged
            {**aws_event, "logsource.product": "gcp"},  # declares another product
        ],
    )
    paths = [path for path, _ in rules]
    expected = [(aws_id, 1), (github_id, 2), (proxy_id, 3)]
    assert fired(cli, events, paths, "--mapping", "tagged") == sorted(expected)
    # --logsource fills in only what an event does not declare: line 4 only, not the gcp one
    stamped = fired(cli, events, paths, "--mapping", "tagged", "--logsource", "aws/cloudtrail")
    assert stamped == sorted([*expected, (aws_id, 4)])


@pytest.mark.parametrize("bad", ["", "/", ":", "aws/cloud/trail", "aws:a:b"])
def test_malformed_logsource_is_a_usage_error(cli: Cli, tmp_path: Path, bad: str) -> None:
    events = write_events(tmp_path / "e.jsonl", [{"a": "b"}])
    rules = tmp_path / "rules"
    rules.mkdir()
    result = cli("detect", str(events), "--rules", str(rules), "--logsource", bad)
    assert result.exit_code == 2
    assert "PRODUCT[/SERVICE][:CATEGORY]" in result.stderr


def test_logsource_without_a_tag_routing_mapping_says_it_does_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    events = write_events(tmp_path / "e.jsonl", [{"a": "b"}])
    rules = tmp_path / "rules"
    rules.mkdir()
    result = cli.ok("detect", str(events), "--rules", str(rules), "--logsource", "aws")
    assert "--logsource has no effect with --mapping windows" in result.stderr


def test_logsource_columns_are_the_engines() -> None:
    from civicshield.cli.detect import LOGSOURCE_FIELDS
    from civicshield.detect.engine.mappings import LOGSOURCE_FIELDS as ENGINE_FIELDS

    assert LOGSOURCE_FIELDS == ENGINE_FIELDS
