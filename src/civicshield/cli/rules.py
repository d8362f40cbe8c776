"""`civicshield rules …`: update, list, show, validate and test Sigma rules (parsed by pySigma).

Rules come from `--rules DIR` (repeatable) when given, else the SigmaHQ pack installed by
`rules update` (`<data_dir>/rules/sigmahq`), else `CIVICSHIELD_FEEDS_PATH/sigma/rules`.
`rules validate --compile [--report FILE]` also compiles every rule and lists (or writes as
Markdown) the ones the engine cannot run, with the reason; `rules test` runs one rule over
event files."""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from civicshield.cli._common import (
    JsonOption,
    console,
    emit_json,
    fail,
    print_table,
    state,
    success,
)
from civicshield.cli._selection import (
    ExcludeFolderOption,
    FolderOption,
    IncludeDeprecatedOption,
    MinLevelOption,
    StatusOption,
    TagOption,
    check_mapping,
    mapping_option,
    selection_from_options,
)
from civicshield.core import Invalid, NotFound

if TYPE_CHECKING:
    import polars as pl

    from civicshield.detect import LoadReport, RuleInfo, RuleProblem
    from civicshield.detect.engine import CompiledRuleSet, Unsupported
    from civicshield.detect.readers import JsonlBatch

# pySigma is imported inside the commands: it costs ~0.3 s, which other commands need not pay.

__all__ = ["compile_report", "rules_app"]

TEST_FORMATS = ("table", "jsonl")
_CELL_LIMIT = 300  # characters of a field value shown in the `rules test` table

rules_app = typer.Typer(
    help="Sigma detection rules: update, list, show, validate and test them.",
    no_args_is_help=True,
)

RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules",
        help="Rules folder or file (repeatable); default: the pack installed by `rules update`,"
        " else CIVICSHIELD_FEEDS_PATH/sigma/rules.",
        show_default=False,
    ),
]


def _load(ctx: typer.Context, rules: list[Path] | None) -> LoadReport:
    from civicshield.detect import load_rules, rule_roots

    return load_rules(rule_roots(state(ctx).settings(), rules))


def _warn_problems(report: LoadReport) -> None:
    if report.problems:
        console(stderr=True).print(
            Text(
                f"warning: {len(report.problems)} rule problems while loading; "
                "run `civicshield rules validate` to see them",
                style="yellow",
            )
        )


@rules_app.command("update")
def update(
    ctx: typer.Context,
    from_path: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Install this local rules folder or .zip instead of downloading."
        ),
    ] = None,
    tag: Annotated[
        str | None, typer.Option(help="SigmaHQ release tag to download (default: pinned).")
    ] = None,
    sha256: Annotated[
        str | None, typer.Option(help="Expected SHA-256 of the release asset or --from zip.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Install the SigmaHQ rule pack (the pinned release, or --from PATH), then parse it."""
    from civicshield.detect.sigma import installed_rules_dir, load_rules
    from civicshield.detect.sigma.packs import (
        DEFAULT_TAG,
        RulePack,
        download,
        file_sha256,
        install_from_path,
    )

    settings = state(ctx).settings()
    target = installed_rules_dir(settings)
    if from_path is not None:
        if tag is not None:
            fail("--tag applies to downloads; drop it or drop --from")
        if sha256 is not None:
            if not from_path.is_file():
                fail("--sha256 checks a .zip file; --from names a folder")
            expected = RulePack(sha256=sha256).sha256
            actual = file_sha256(from_path)
            if actual != expected:
                fail(f"checksum mismatch for {from_path}: expected sha256 {expected}, got {actual}")
        installed = install_from_path(from_path, target.parent, name=target.name)
    else:
        pack = RulePack(tag=tag or DEFAULT_TAG, sha256=sha256)
        installed = download(pack, target.parent, cache_dir=settings.data_dir / "cache" / "rules")
    report = load_rules([installed.path])
    if json_output:
        emit_json(
            {
                **installed.to_dict(),
                "rules": len(report.rules),
                "problems": [p.to_dict() for p in report.problems],
            }
        )
        return
    out = console()
    out.print(Text(f"installed {installed.source} -> {installed.path}"))
    out.print(Text(f"files: {installed.files}, sha256: {installed.sha256}"))
    for problem in report.problems:
        typer.echo(str(problem), err=True)
    totals = f"{report.files} rule files, {len(report.rules)} rules parsed"
    if report.problems:
        console(stderr=True).print(
            Text(
                f"warning: {totals}, {len(report.problems)} problems (listed above)", style="yellow"
            )
        )
    else:
        success(f"{totals}, 0 problems")


@rules_app.command("list")
def list_rules(
    ctx: typer.Context,
    rules: RulesOption = None,
    min_level: MinLevelOption = None,
    status: StatusOption = None,
    tag: TagOption = None,
    folder: FolderOption = None,
    exclude_folder: ExcludeFolderOption = None,
    include_deprecated: IncludeDeprecatedOption = False,
    json_output: JsonOption = False,
) -> None:
    """List the enabled rules with their level, status and file, and counts by level."""
    from civicshield.detect import select

    selection = selection_from_options(
        folders=folder,
        exclude_folders=exclude_folder,
        statuses=status,
        tags=tag,
        min_level=min_level,
        include_deprecated=include_deprecated,
    )
    report = _load(ctx, rules)
    chosen = select(report.rules, selection)
    by_level = report.counts_by_level(chosen)
    if json_output:
        emit_json(
            {
                "total": len(chosen),
                "by_level": by_level,
                "rules": [r.to_dict() for r in chosen],
                "problems": [p.to_dict() for p in report.problems],
            }
        )
        return
    rows = [
        (r.id, _level(r), r.status, r.title, r.path)
        for r in sorted(chosen, key=lambda r: (-(r.level.rank if r.level else -1), r.path))
    ]
    summary = ", ".join(f"{name} {count}" for name, count in reversed(by_level.items()))
    print_table(
        ("ID", "Level", "Status", "Title", "File"),
        rows,
        caption=f"{len(chosen)} of {len(report.rules)} rules ({summary})",
    )
    _warn_problems(report)


@rules_app.command("show")
def show(
    ctx: typer.Context,
    rule: Annotated[
        str, typer.Argument(help="Rule id, file name, relative path, file path or title.")
    ],
    rules: RulesOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one rule's metadata and its YAML text."""
    info = _lookup(ctx, rule, rules)
    text = info.source.read_text(encoding="utf-8")
    if json_output:
        emit_json({**info.to_dict(), "source": str(info.source), "yaml": text})
        return
    out = console()
    fields: list[tuple[str, str | Text]] = [
        ("ID", info.id),
        ("Title", info.title),
        ("Level", _level(info)),
        ("Status", info.status or "—"),
        ("Author", info.author or "—"),
        ("Log source", _logsource(info)),
        ("ATT&CK", ", ".join((*info.tactics, *info.techniques)) or "—"),
        ("Tags", ", ".join(info.tags) or "—"),
        ("File", str(info.source)),
    ]
    for name, value in fields:
        out.print(Text.assemble((f"{name + ':':<12}", "bold"), value))
    out.print()
    out.print(Text(text.rstrip("\n")))


@rules_app.command("validate")
def validate(
    ctx: typer.Context,
    rules: RulesOption = None,
    compile_them: Annotated[
        bool,
        typer.Option(
            "--compile", help="Also compile every (selected) rule and list those that cannot be."
        ),
    ] = False,
    report_file: Annotated[
        Path | None,
        typer.Option(
            "--report",
            help="Write a Markdown report of the rules that cannot be compiled"
            " (implies --compile).",
            show_default=False,
        ),
    ] = None,
    min_level: MinLevelOption = None,
    status: StatusOption = None,
    tag: TagOption = None,
    folder: FolderOption = None,
    exclude_folder: ExcludeFolderOption = None,
    mapping: Annotated[str, mapping_option("combined")] = "combined",
    json_output: JsonOption = False,
) -> None:
    """Parse every rule file; print each problem as `file:line: reason`; with --compile also
    each rule that cannot be compiled as `file: reason`. Exit 1 if any."""
    from civicshield.detect import select
    from civicshield.detect.engine import compile_rules
    from civicshield.detect.engine.mappings import mapping_named

    check_mapping(mapping)
    compile_them = compile_them or report_file is not None
    # validate checks everything, deprecated rules included, unless the options narrow it
    selection = selection_from_options(
        folders=folder,
        exclude_folders=exclude_folder,
        statuses=status,
        tags=tag,
        min_level=min_level,
        include_deprecated=True,
    )
    report = _load(ctx, rules)
    chosen = select(report.rules, selection)
    ruleset = compile_rules(chosen, mapping_named(mapping)) if compile_them else None
    if report_file is not None and ruleset is not None:
        command = _validate_command(
            rules, report_file, min_level, status, tag, folder, exclude_folder, mapping
        )
        roots = rules or report.roots  # as given: no absolute paths in a committed report
        text = compile_report(report, chosen, ruleset, command=command, roots=roots)
        try:
            report_file.parent.mkdir(parents=True, exist_ok=True)
            report_file.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write the report to {report_file}: {exc.strerror or exc}")
    unsupported = ruleset.unsupported if ruleset is not None else []
    failed = bool(report.problems or unsupported)
    if json_output:
        data = report.to_dict()
        if ruleset is not None:
            data["compile"] = {
                "rules": len(chosen),
                "compiled": len(ruleset.rules),
                "unsupported": [_unsupported_dict(u) for u in unsupported],
            }
        emit_json(data)
        if failed:
            raise typer.Exit(1)
        return
    for problem in report.problems:
        typer.echo(str(problem))
    for item in unsupported:
        typer.echo(f"{item.rule.path}: not compiled: {item.reason}")
    totals = f"{report.files} files, {len(report.rules)} rules, {len(report.problems)} problems"
    if ruleset is not None:
        share = _percent(len(ruleset.rules), len(chosen))
        totals += f"; {len(ruleset.rules)} of {len(chosen)} rules compile ({share})"
    if report_file is not None:
        console().print(Text(f"report written to {report_file}"))
    if failed:
        fail(totals)
    success(f"all rules {'parse and compile' if ruleset is not None else 'parse'}: {totals}")


@rules_app.command("test")
def run_rule_test(
    ctx: typer.Context,
    rule: Annotated[
        str, typer.Argument(help="Rule id, title (or part of it), file name, or a .yml file path.")
    ],
    events: Annotated[
        list[Path], typer.Argument(help="Event files: JSON lines (plain or .gz) or .evtx.")
    ],
    rules: RulesOption = None,
    output_format: Annotated[
        str, typer.Option("--format", help="Match output: table or jsonl.")
    ] = "table",
    mapping: Annotated[str, mapping_option("windows")] = "windows",
) -> None:
    """Run one rule over event files and print each match with the fields the rule reads."""
    from civicshield.detect.engine import VALUES_FIELD, compile_rules
    from civicshield.detect.engine.mappings import mapping_named

    check_mapping(mapping)
    if output_format not in TEST_FORMATS:
        fail(f"unknown format {output_format!r} (choose from {', '.join(TEST_FORMATS)})", code=2)
    info = _lookup(ctx, rule, rules)
    ruleset = compile_rules([info], mapping_named(mapping))
    if ruleset.unsupported:
        fail(f"rule {info.id} ({info.path}) cannot be compiled: {ruleset.unsupported[0].reason}")
    err = console(stderr=True)
    err.print(Text(f"testing {info.title} ({info.id}, {info.path})"))
    shown = sorted(ruleset.fields - {VALUES_FIELD})
    with_raw = ruleset.needs_values  # a keyword rule reads every value: show the event
    records: list[dict[str, Any]] = []
    unreadable: list[str] = []
    bad_lines = total = matched = 0
    for path in events:
        try:
            for batch in _read_events(path, ruleset):
                for bad in batch.bad_lines:
                    err.print(Text(f"warning: skipped {bad}", style="yellow"))
                bad_lines += len(batch.bad_lines)
                total += batch.frame.height
                for record in _match_records(ruleset, batch.frame, path, shown, with_raw):
                    matched += 1
                    if output_format == "jsonl":
                        typer.echo(_json_line(record))
                    else:
                        records.append(record)
        except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            unreadable.append(str(path))
            err.print(Text(f"error: cannot read {path}: {exc}", style="bold red"))
    if output_format == "table" and records:
        print_table(
            ("Source", "Line", "Fields"),
            [(r["source"], r["line"], _fields_cell(r)) for r in records],
        )
    err.print(
        Text(
            f"{matched} matches in {total} events from {len(events) - len(unreadable)} files"
            f", {bad_lines} bad lines skipped"
        )
    )
    if unreadable:
        fail(f"{len(unreadable)} input file(s) could not be read: {', '.join(unreadable)}")


def _lookup(ctx: typer.Context, wanted: str, rules: list[Path] | None) -> RuleInfo:
    """The rule `wanted` names: a .yml/.yaml file path (loaded alone), else a rule of the
    loaded rules found by `_find`."""
    from civicshield.detect import load_rules

    given = Path(wanted)
    if given.suffix.lower() in (".yml", ".yaml") and given.is_file():
        report = load_rules([given])
        if not report.rules:
            fail("; ".join(str(p) for p in report.problems) or f"no rule in {given}")
        return report.rules[0]
    return _find(_load(ctx, rules).rules, wanted)[0]


def _find(loaded: list[RuleInfo], wanted: str) -> list[RuleInfo]:
    needle = wanted.strip().strip("/")
    lowered = needle.lower()
    tests: list[Callable[[RuleInfo], bool]] = [
        lambda r: r.id == lowered,
        lambda r: r.path == needle,
        lambda r: r.path.endswith(f"/{needle}"),
        lambda r: r.title.lower() == lowered,
        lambda r: bool(lowered) and lowered in r.title.lower(),
    ]
    for match in tests:
        found = [r for r in loaded if match(r)]
        if len(found) == 1:
            return found
        if len(found) > 1:
            files = ", ".join(r.path for r in found[:5])
            raise Invalid(
                f"{wanted!r} matches {len(found)} rules ({files}); give the id or the path"
            )
    raise NotFound(f"no rule with id or file {wanted!r}, nor a title containing it")


def _read_events(path: Path, ruleset: CompiledRuleSet) -> Iterator[JsonlBatch]:
    """Batches of `path`: EVTX records for `.evtx` files, else JSON lines (plain or gzip)."""
    if path.suffix.lower() == ".evtx":
        from civicshield.detect.readers.evtx import read_evtx

        return read_evtx(path, ruleset.fields, values=ruleset.needs_values)
    from civicshield.detect.readers import read_jsonl

    return read_jsonl(path, ruleset.fields, values=ruleset.needs_values)


def _match_records(
    ruleset: CompiledRuleSet,
    frame: pl.DataFrame,
    path: Path,
    shown: Sequence[str],
    with_raw: bool,
) -> Iterator[dict[str, Any]]:
    """One record per match of the (single) rule on `frame`: where it is and the values of
    the fields the rule reads (`with_raw`: also the event's line, for keyword rules)."""
    from civicshield.detect.engine import evaluate

    matches = evaluate(ruleset, frame)
    if matches.height == 0:
        return
    columns = [f for f in shown if f in frame.columns]
    picked = frame.select("_line", "_raw", *columns)
    for row in matches.iter_rows(named=True):
        event = picked.row(row["event_index"], named=True)
        values = {f: event[f] for f in columns if event[f] is not None}
        record: dict[str, Any] = {
            "rule_id": row["rule_id"],
            "rule_title": row["rule_title"],
            "level": row["level"],
            "author": row["author"],
            "tags": row["tags"],
            "source": str(path),
            "line": event["_line"],
            "fields": values,
        }
        if with_raw:
            record["event"] = event["_raw"]
        yield record


def _json_line(record: dict[str, Any]) -> str:
    import orjson

    return orjson.dumps(record).decode()


def _fields_cell(record: dict[str, Any]) -> str:
    pairs = [f"{k}={_clip(str(v))}" for k, v in record["fields"].items()]
    if "event" in record:
        pairs.append(_clip(record["event"]))
    return "\n".join(pairs)


def _clip(text: str) -> str:
    return text if len(text) <= _CELL_LIMIT else text[: _CELL_LIMIT - 1] + "…"


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _is_deprecated(info: RuleInfo) -> bool:
    return info.deprecated or info.status == "deprecated"


def _unsupported_dict(item: Unsupported) -> dict[str, Any]:
    return {
        "file": item.rule.path,
        "id": item.rule.id,
        "title": item.rule.title,
        "reason": item.reason,
        "deprecated": _is_deprecated(item.rule),
    }


def _validate_command(
    rules: list[Path] | None,
    report_file: Path,
    min_level: str | None,
    status: list[str] | None,
    tag: list[str] | None,
    folder: list[str] | None,
    exclude_folder: list[str] | None,
    mapping: str,
) -> str:
    """The command line that regenerates the report (written into it)."""
    import shlex

    args = ["civicshield", "rules", "validate", "--compile"]
    args += [a for r in rules or () for a in ("--rules", str(r))]
    options: list[tuple[str, Sequence[str]]] = [
        ("--min-level", [min_level] if min_level else []),
        ("--status", status or []),
        ("--tag", tag or []),
        ("--folder", folder or []),
        ("--exclude-folder", exclude_folder or []),
    ]
    args += [a for name, values in options for v in values for a in (name, v)]
    args += ["--mapping", mapping, "--report", str(report_file)]
    return shlex.join(args)


def _md(text: object) -> str:
    """A Markdown table cell: pipes escaped, on one line."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def compile_report(
    report: LoadReport,
    chosen: Sequence[RuleInfo],
    ruleset: CompiledRuleSet,
    *,
    command: str,
    roots: Sequence[Path],
    now: datetime | None = None,
) -> str:
    """The Markdown compile report: totals, counts by top folder and by reason, then every
    rule that did not parse or compile, one line each (the issue's "every rule compiles or is
    reported with its reason")."""
    from civicshield.detect.engine import ENGINE_VERSION, MAPPING_VERSION

    when = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    unsupported = sorted(ruleset.unsupported, key=lambda u: u.rule.path)
    current = [r for r in chosen if not _is_deprecated(r)]
    failed_current = sum(1 for u in unsupported if not _is_deprecated(u.rule))
    compiled_current = len(current) - failed_current
    lines = [
        "# Sigma rule compile report",
        "",
        f"Generated by `{command}` on {when} (engine version {ENGINE_VERSION}, log-source "
        f"mapping version {MAPPING_VERSION}). Do not edit by hand: run the command again.",
        "",
        "Rules: " + ", ".join(f"`{r}`" for r in roots) + ".",
        "",
        "## Totals",
        "",
        "| What | Count |",
        "|---|---:|",
        f"| Rule files | {report.files} |",
        f"| Files or rules that do not parse | {len(report.problems)} |",
        f"| Rules parsed | {len(report.rules)} |",
        f"| Rules selected | {len(chosen)} |",
        f"| Rules compiled | {len(ruleset.rules)} ({_percent(len(ruleset.rules), len(chosen))}) |",
        f"| Rules not compiled | {len(unsupported)} |",
        f"| Non-deprecated rules compiled | {compiled_current} of {len(current)}"
        f" ({_percent(compiled_current, len(current))}) |",
        "",
        "## By folder",
        "",
        "| Folder | Rules | Compiled | Not compiled |",
        "|---|---:|---:|---:|",
    ]
    by_folder: dict[str, list[int]] = {}
    failed_paths = {u.rule.path for u in unsupported}
    for rule in chosen:
        counts = by_folder.setdefault(rule.path.split("/", 1)[0], [0, 0])
        counts[0 if rule.path not in failed_paths else 1] += 1
    for name, (ok, bad) in sorted(by_folder.items()):
        lines.append(f"| `{_md(name)}` | {ok + bad} | {ok} | {bad} |")
    lines += ["", "## Not compiled, by reason", ""]
    if unsupported:
        lines += ["| Reason | Rules | Deprecated |", "|---|---:|---:|"]
        reasons = Counter(u.reason for u in unsupported)
        deprecated = Counter(u.reason for u in unsupported if _is_deprecated(u.rule))
        for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"| {_md(reason)} | {count} | {deprecated[reason]} |")
    else:
        lines.append("Every selected rule compiles.")
    lines += ["", "## Not parsed", ""]
    lines += _problem_lines(report.problems) or ["Every rule file parses."]
    lines += ["", "## Rules not compiled", ""]
    if unsupported:
        lines += ["| File | ID | Title | Reason | Deprecated |", "|---|---|---|---|---|"]
        for u in unsupported:
            flag = "yes" if _is_deprecated(u.rule) else "no"
            lines.append(
                f"| `{_md(u.rule.path)}` | `{u.rule.id}` | {_md(u.rule.title)} "
                f"| {_md(u.reason)} | {flag} |"
            )
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _problem_lines(problems: Sequence[RuleProblem]) -> list[str]:
    if not problems:
        return []
    rows = ["| File | Line | Reason |", "|---|---:|---|"]
    for p in problems:
        rows.append(f"| `{_md(p.file)}` | {p.line or '—'} | {_md(p.reason)} |")
    return rows


def _level(info: RuleInfo) -> Text:
    if info.level is None:
        return Text("—", style="dim")
    return Text(info.level.label)


def _logsource(info: RuleInfo) -> str:
    parts = [f"{k}={v}" for k, v in _pairs(info) if v]
    return " ".join(parts) or "—"


def _pairs(info: RuleInfo) -> list[tuple[str, str | None]]:
    return [("product", info.product), ("category", info.category), ("service", info.service)]
