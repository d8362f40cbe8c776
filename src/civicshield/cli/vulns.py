"""`civicshield vulns …`: vulnerability data, matching, findings, scanner imports, policy.

`vulns sync [--from PATH] [--only SOURCE] [--json]` loads the feeds from PATH, else from
`CIVICSHIELD_FEEDS_PATH/vuln/` when present, else downloads them (cached under
`<data_dir>/cache/vuln`); it reports records read/kept/skipped per source and the located
problems of skipped records, stores them, and re-assesses the findings of changed CVEs. A
progress bar shows on a terminal. The other commands are in `cli/vulns_findings.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from civicshield.cli._common import JsonOption, console, emit_json, print_table, state, success

if TYPE_CHECKING:
    from civicshield.vulns.sync import Progress

__all__ = ["vulns_app"]

_SHOWN_PROBLEMS = 20

vulns_app = typer.Typer(
    help="Vulnerabilities: sync feeds, match the inventory, list and triage findings, import"
    " scanner results, see and change the prioritisation policy.",
    no_args_is_help=True,
)


@contextmanager
def _progress_bar(enabled: bool) -> Iterator[Progress | None]:
    """A Rich progress bar on stderr (only on a terminal); yields the sync callback."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    bar = Progress(
        TextColumn("{task.description:<5}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console(stderr=True),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(source: str, done: int, total: int | None) -> None:
        if source not in tasks:
            tasks[source] = bar.add_task(source, total=total)
        bar.update(tasks[source], completed=done, total=total)

    with bar:
        yield update


@vulns_app.command("sync")
def sync(
    ctx: typer.Context,
    from_path: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Load from this feeds folder (e.g. ../shared/data/vuln), one source's folder,"
            " or one file, instead of downloading.",
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Only this source (repeatable): kev, epss, cve5, nvd."),
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Only fetch and check; write nothing.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Fetch, validate, cache and parse the vulnerability feeds, store them and re-assess the
    findings of changed CVEs; report counts per source. Then run `vulns match`."""
    from civicshield import vulns
    from civicshield.vulns.sync import sync_feeds

    st = state(ctx)
    settings = st.settings()
    with _progress_bar(not json_output and sys.stderr.isatty()) as progress:
        report = sync_feeds(settings, from_path=from_path, only=only, progress=progress)
    stored: list[dict[str, object]] = []
    changed = 0
    if not no_store:
        rt = st.runtime()
        with rt.session() as session:
            summaries, changed = vulns.store_report(session, report, clock=rt.clock)
        stored = [s.to_dict() for s in summaries]
    if json_output:
        emit_json({**report.to_dict(), "stored": stored, "decisions_changed": changed})
        return
    rows = [
        (
            s.source,
            s.status,
            s.result.read,
            s.result.kept,
            s.result.skipped,
            ", ".join(f"{k} {v}" for k, v in s.info.items() if v),
            s.origin,
        )
        for s in report.sources
    ]
    print_table(["source", "status", "read", "kept", "skipped", "info", "from"], rows)
    problems = report.problems
    err = console(stderr=True)
    for problem in problems[:_SHOWN_PROBLEMS]:
        err.print(Text(f"skipped: {problem}", style="yellow"))
    if len(problems) > _SHOWN_PROBLEMS:
        more = len(problems) - _SHOWN_PROBLEMS
        err.print(Text(f"… and {more} more (use --json to see them)", style="yellow"))
    if stored:
        print_table(
            ["source", "new", "updated", "unchanged", "removed"],
            [
                (d["source"], d["created"], d["updated"], d["unchanged"], d["removed"])
                for d in stored
            ],
        )
    kept = sum(s.result.kept for s in report.sources)
    success(
        f"{kept} records kept, {len(problems)} skipped"
        + ("" if no_store else f"; {changed} finding(s) changed decision")
    )


def _register_findings() -> None:
    from civicshield.cli import vulns_findings

    vulns_findings.register(vulns_app)


_register_findings()
