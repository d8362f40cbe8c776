"""`civicshield detect PATH…`: run Sigma rules over JSONL event files (plain or gzip).

Rules come from `--rules DIR` (repeatable), else the installed SigmaHQ pack, else
`CIVICSHIELD_FEEDS_PATH/sigma/rules` (see `civicshield rules`). Matches stream to stdout or
`--output`; problems (unsupported rules, bad lines, unreadable files) and the summary go to stderr.

The compiled rule set is cached under `<data_dir>/cache/compiled/<key>.bin`, keyed by the rule
files' bytes and the engine/mapping versions (`civicshield.detect.cache`); a warm run parses no
YAML. `--min-level` is applied after loading, so one cache serves every selection. `--no-cache`
rebuilds (and rewrites) it.
"""

from __future__ import annotations

import csv
import gzip
import sys
import zlib
from collections import Counter
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.text import Text

from civicshield.cli._common import console, fail, parse_choice, state
from civicshield.core import Severity

if TYPE_CHECKING:
    from rich.console import Console

    from civicshield.detect.engine import CompiledRuleSet

__all__ = ["detect"]

FORMATS = ("table", "jsonl", "csv")
CSV_COLUMNS = ("rule_id", "rule_title", "level", "author", "tags", "source", "line")


def detect(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="JSONL event files (plain or .gz).")],
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules",
            help="Rules folder or file (repeatable); default: the pack installed by `rules update`,"
            " else CIVICSHIELD_FEEDS_PATH/sigma/rules.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="Match output: table, jsonl or csv.")
    ] = "table",
    min_level: Annotated[
        str | None,
        typer.Option("--min-level", help="Only rules of this level or higher.", show_default=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Write matches to this file instead of stdout."),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Rebuild the compiled rule cache (parse every rule)."),
    ] = False,
) -> None:
    """Run the enabled Sigma rules over event files and print every match."""
    from civicshield.detect import RuleSelection
    from civicshield.detect.engine import CompiledRuleSet, evaluate
    from civicshield.detect.readers import read_jsonl

    if output_format not in FORMATS:
        fail(f"unknown format {output_format!r} (choose from {', '.join(FORMATS)})", code=2)
    level = parse_choice(Severity.parse, min_level) if min_level else None
    err = console(stderr=True)
    compiled = _compiled_rules(ctx, rules, use_cache=not no_cache, err=err)
    selection = RuleSelection(min_level=level)
    ruleset = CompiledRuleSet(
        rules=[r for r in compiled.rules if selection.accepts(r.rule)],
        unsupported=[u for u in compiled.unsupported if selection.accepts(u.rule)],
    )
    if ruleset.unsupported:
        err.print(
            Text(
                f"warning: {len(ruleset.unsupported)} rules not supported (not run):",
                style="yellow",
            )
        )
        reasons = Counter(u.reason for u in ruleset.unsupported)
        for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            err.print(Text(f"  {count} × {reason}"))
        for item in ruleset.unsupported:
            err.print(Text(f"  {item}", style="dim"))
    err.print(Text(f"running {len(ruleset.rules)} rules"))

    try:
        stream: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        fail(f"cannot write matches to {output}: {exc.strerror or exc}")
    writer = _Writer(output_format, stream)
    summary: Counter[tuple[str, str, str]] = Counter()
    unreadable: list[str] = []
    bad_lines = events = 0
    try:
        for path in paths:
            try:
                for batch in read_jsonl(path, ruleset.fields, raw=ruleset.needs_values):
                    for bad in batch.bad_lines:
                        err.print(Text(f"warning: skipped {bad}", style="yellow"))
                    bad_lines += len(batch.bad_lines)
                    events += batch.frame.height
                    matches = evaluate(ruleset, batch.frame)
                    lines = batch.frame.get_column("_line").to_list()
                    for row in matches.iter_rows(named=True):
                        record = {
                            "rule_id": row["rule_id"],
                            "rule_title": row["rule_title"],
                            "level": row["level"],
                            "author": row["author"],
                            "tags": row["tags"],
                            "source": str(path),
                            "line": lines[row["event_index"]],
                        }
                        writer.write(record)
                        summary[(row["rule_id"], row["rule_title"], row["level"] or "")] += 1
            except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
                unreadable.append(str(path))
                err.print(Text(f"error: cannot read {path}: {exc}", style="bold red"))
        writer.close()
    finally:
        if output is not None:
            stream.close()
    _summary(summary, events, bad_lines)
    if unreadable:
        fail(f"{len(unreadable)} input file(s) could not be read: {', '.join(unreadable)}")


def _compiled_rules(
    ctx: typer.Context, rules: list[Path] | None, *, use_cache: bool, err: Console
) -> CompiledRuleSet:
    """Every loaded rule compiled (unselected): from the compiled rule cache when it holds this
    exact rule set, else parsed, compiled and saved. Load problems are printed either way."""
    from civicshield.detect import cache
    from civicshield.detect.engine import ENGINE_VERSION, MAPPING_VERSION
    from civicshield.detect.sigma import iter_rule_files, rule_roots

    settings = state(ctx).settings()
    roots = [r.resolve() for r in rule_roots(settings, rules)]
    files = [f for root in roots for f in iter_rule_files(root)]
    key = cache.ruleset_key(
        files,
        engine_version=ENGINE_VERSION,
        mapping_version=MAPPING_VERSION,
        roots=roots,
        index=cache.index_path(settings.data_dir) if use_cache else None,
    )
    path = cache.cache_path(settings.data_dir, key)
    entry = cache.load_entry(path) if use_cache else None
    if entry is not None:
        err.print(Text(f"compiled rule cache: hit ({path.name})", style="dim"))
        ruleset, problems = entry.ruleset, entry.problems
    else:
        if use_cache and path.exists():
            err.print(Text(f"note: ignoring unreadable compiled rule cache {path}", style="yellow"))
        from civicshield.detect import load_rules
        from civicshield.detect.engine import compile_rules

        report = load_rules(roots)
        ruleset, problems = compile_rules(report.rules), report.problems
        try:
            cache.save(ruleset, path, problems=problems)
            err.print(Text(f"compiled rule cache: saved {path}", style="dim"))
        except (cache.CacheError, OSError) as exc:
            err.print(Text(f"note: compiled rule cache not written: {exc}", style="yellow"))
    for problem in problems:
        err.print(Text(f"warning: rule not loaded: {problem}", style="yellow"))
    return ruleset


class _Writer:
    def __init__(self, fmt: str, stream: IO[str]) -> None:
        self.fmt = fmt
        self.stream = stream
        self.rows: list[dict[str, Any]] = []
        self.csv = csv.writer(stream) if fmt == "csv" else None
        if self.csv is not None:
            self.csv.writerow(CSV_COLUMNS)

    def write(self, record: dict[str, Any]) -> None:
        if self.fmt == "jsonl":
            self.stream.write(orjson.dumps(record).decode() + "\n")
        elif self.csv is not None:
            self.csv.writerow(
                [
                    ";".join(v) if isinstance(v, list) else v
                    for v in (record[c] for c in CSV_COLUMNS)
                ]
            )
        else:
            self.rows.append(record)

    def close(self) -> None:
        if self.fmt != "table":
            self.stream.flush()
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(header_style="bold")
        for column in ("level", "rule", "source", "line"):
            table.add_column(column)
        for r in self.rows:
            table.add_row(
                Text(r["level"] or ""),
                Text(r["rule_title"]),
                Text(r["source"]),
                Text(str(r["line"])),
            )
        Console(file=self.stream, highlight=False, markup=False, soft_wrap=True).print(table)


def _summary(summary: Counter[tuple[str, str, str]], events: int, bad_lines: int) -> None:
    from rich.table import Table

    err = console(stderr=True)
    table = Table(title="Matches by rule", header_style="bold", title_justify="left")
    for column in ("level", "rule", "matches"):
        table.add_column(column)
    rank = {s.value: s.rank for s in Severity}
    for (rule_id, title, level), count in sorted(
        summary.items(), key=lambda kv: (-rank.get(kv[0][2], -1), -kv[1], kv[0][1])
    ):
        table.add_row(Text(level), Text(f"{title} ({rule_id})"), Text(str(count)))
    err.print(table)
    by_level = Counter[str]()
    for (_, _, level), count in summary.items():
        by_level[level] += count
    levels = ", ".join(
        f"{k}: {v}" for k, v in sorted(by_level.items(), key=lambda kv: -rank.get(kv[0], -1))
    )
    err.print(
        Text(
            f"{events} events, {sum(summary.values())} matches from {len(summary)} rules"
            f"{' (' + levels + ')' if levels else ''}, {bad_lines} bad lines skipped"
        )
    )
