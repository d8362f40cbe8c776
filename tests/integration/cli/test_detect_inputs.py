"""`civicshield detect` inputs: EVTX files (record numbers as lines), unreadable EVTX, and the
progress bar (only on a terminal)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

import civicshield.cli._detect_output as detect_output
import civicshield.cli.detect as detect_module
from civicshield.detect.readers import read_evtx
from tests.unit.detect.rulefiles import write_rule

from .conftest import Cli, cli_env

CALC = "bbbbbbbb-0000-4000-8000-000000000001"
SAMPLE_EVTX = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "data"
    / "logs"
    / "evtx-attack-samples"
    / "evtx"
    / "Lateral Movement"
    / "LM_WMI_4624_4688_TargetHost.evtx"
)
CALC_RULE = (
    f"title: Calculator started\nid: {CALC}\nstatus: test\nauthor: CivicShield tests\n"
    "logsource:\n    product: windows\n    service: security\n"
    "detection:\n    selection:\n        EventID: 4688\n"
    "        NewProcessName|endswith: '\\calc.exe'\n    condition: selection\nlevel: medium\n"
)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'var' / 'unused.db'}"
    return Cli(cli_env(tmp_path / "var", url), tmp_path / "var", url)


def sample(tmp_path: Path, name: str = "sample.evtx") -> Path:
    if not SAMPLE_EVTX.exists():
        pytest.skip(f"shared EVTX sample not available: {SAMPLE_EVTX}")
    path = tmp_path / name
    path.write_bytes(SAMPLE_EVTX.read_bytes())
    return path


def calc_records(path: Path) -> list[int]:
    """Record numbers of the sample's calc.exe process creations, read independently."""
    lines: list[int] = []
    for batch in read_evtx(path, ["NewProcessName"]):
        for name, line in batch.frame.select("NewProcessName", "_line").iter_rows():
            if name and name.lower().endswith("\\calc.exe"):
                lines.append(line)
    return lines


@pytest.mark.parametrize("name", ["sample.evtx", "renamed.log"])
def test_evtx_input_reports_record_numbers(cli: Cli, tmp_path: Path, name: str) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, "windows/calc.yml", CALC_RULE)
    path = sample(tmp_path, name)  # a renamed .evtx is still recognised by its magic
    expected = calc_records(path)
    assert expected  # the sample holds one
    result = cli.ok("detect", str(path), "--rules", str(rules), "--format", "jsonl")
    found = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["rule_id"], r["source"], r["line"]) for r in found] == [
        (CALC, str(path), line) for line in expected
    ]
    assert "8 events" in result.stderr


def test_unreadable_evtx_is_reported_and_the_rest_is_read(cli: Cli, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, "windows/calc.yml", CALC_RULE)
    bad = tmp_path / "text.evtx"
    bad.write_text("hello", encoding="utf-8")
    good = tmp_path / "events.jsonl"
    calc = {"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\x\\calc.exe"}
    good.write_text(json.dumps(calc) + "\n", encoding="utf-8")
    result = cli("detect", str(bad), str(good), "--rules", str(rules), "--format", "jsonl")
    assert result.exit_code == 1
    assert f"cannot read {bad}" in result.stderr
    assert "not a readable EVTX file" in result.stderr
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1]


def test_no_progress_bar_unless_stderr_is_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    err = Console(file=io.StringIO())

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not isinstance(detect_output.progress_bar(err), Progress)
    monkeypatch.setattr(sys, "stderr", Tty())
    assert isinstance(detect_output.progress_bar(err), Progress)


def test_progress_bar_follows_each_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = tmp_path / "rules"
    write_rule(rules, "windows/calc.yml", CALC_RULE)
    events = tmp_path / "events.jsonl"
    calc = {"Channel": "Security", "EventID": 4688, "NewProcessName": "C:\\x\\calc.exe"}
    events.write_text((json.dumps(calc) + "\n") * 3, encoding="utf-8")
    screen = io.StringIO()
    bar = Progress(console=Console(file=screen, force_terminal=True, width=100), transient=True)
    seen: list[tuple[str, float | None, object]] = []
    update = bar.update

    def spying_update(task: object, **kwargs: object) -> None:
        seen.append((bar.tasks[0].description, bar.tasks[0].total, kwargs.get("completed")))
        update(task, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bar, "update", spying_update)
    monkeypatch.setattr(detect_module, "progress_bar", lambda err: bar)
    result = cli.ok("detect", str(events), "--rules", str(rules), "--format", "jsonl")
    assert len(result.stdout.splitlines()) == 3
    assert "events.jsonl" in screen.getvalue()
    assert not bar.tasks  # each file's bar is removed when the file is done
    if Path("/proc/self/fdinfo").is_dir():
        size = events.stat().st_size  # one batch: the whole file was read
        assert seen == [("events.jsonl", float(size), size)]


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="needs Linux /proc")
def test_read_position_is_the_open_handles_offset(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 1000)
    assert detect_output.read_position(path) is None  # not open
    with path.open("rb", buffering=0) as handle:
        handle.read(123)
        assert detect_output.read_position(path) == 123
