"""`civicshield rules …`: update, list, show and validate Sigma rules (parsed by pySigma).

Rules come from `--rules DIR` (repeatable) when given, else the SigmaHQ pack installed by
`rules update` (`<data_dir>/rules/sigmahq`), else `CIVICSHIELD_FEEDS_PATH/sigma/rules`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from civicshield.cli._common import (
    JsonOption,
    console,
    emit_json,
    fail,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.core import Invalid, NotFound, Severity

if TYPE_CHECKING:
    from civicshield.detect import LoadReport, RuleInfo

# pySigma is imported inside the commands: it costs ~0.3 s, which other commands need not pay.

__all__ = ["rules_app"]

rules_app = typer.Typer(
    help="Sigma detection rules: update, list, show and validate them.", no_args_is_help=True
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
    level: Annotated[
        str | None, typer.Option(help="Minimum level: informational, low, medium, high, critical.")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option(help="Only this status (repeatable), e.g. stable, test.")
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(help="Only rules with a tag matching this glob (repeatable)."),
    ] = None,
    folder: Annotated[
        list[str] | None,
        typer.Option(help="Only rules under this folder glob (repeatable), e.g. windows/*."),
    ] = None,
    include_deprecated: Annotated[
        bool, typer.Option(help="Also list deprecated and unsupported rules.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List the enabled rules with their level, status and file, and counts by level."""
    from civicshield.detect import RuleSelection, select

    base = RuleSelection.everything() if include_deprecated else RuleSelection()
    selection = RuleSelection(
        folders=tuple(folder or ()),
        exclude_folders=base.exclude_folders,
        min_level=parse_choice(Severity.parse, level) if level else None,
        statuses=frozenset(s.strip().lower() for s in status or ()),
        exclude_statuses=base.exclude_statuses,
        tags=tuple(tag or ()),
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
    rule: Annotated[str, typer.Argument(help="Rule id, file name, relative path or file path.")],
    rules: RulesOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one rule's metadata and its YAML text."""
    from civicshield.detect import load_rules

    given = Path(rule)
    if given.suffix.lower() in (".yml", ".yaml") and given.is_file():
        report = load_rules([given])
        found = report.rules
        if not found:
            fail("; ".join(str(p) for p in report.problems) or f"no rule in {given}")
    else:
        found = _find(_load(ctx, rules).rules, rule)
    info = found[0]
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
    ctx: typer.Context, rules: RulesOption = None, json_output: JsonOption = False
) -> None:
    """Parse every rule file; print each problem as `file:line: reason`; exit 1 if any."""
    report = _load(ctx, rules)
    if json_output:
        emit_json(report.to_dict())
        if report.problems:
            raise typer.Exit(1)
        return
    for problem in report.problems:
        typer.echo(str(problem))
    totals = f"{report.files} files, {len(report.rules)} rules, {len(report.problems)} problems"
    if report.problems:
        fail(totals)
    success(f"all rules parse: {totals}")


def _find(loaded: list[RuleInfo], wanted: str) -> list[RuleInfo]:
    needle = wanted.strip().strip("/")
    tests: list[Callable[[RuleInfo], bool]] = [
        lambda r: r.id == needle.lower(),
        lambda r: r.path == needle,
        lambda r: r.path.endswith(f"/{needle}"),
    ]
    for match in tests:
        found = [r for r in loaded if match(r)]
        if len(found) == 1:
            return found
        if len(found) > 1:
            files = ", ".join(r.path for r in found[:5])
            raise Invalid(f"{wanted!r} matches {len(found)} rules ({files}); give the path")
    raise NotFound(f"no rule with id or file {wanted!r}")


def _level(info: RuleInfo) -> Text:
    if info.level is None:
        return Text("—", style="dim")
    return Text(info.level.label)


def _logsource(info: RuleInfo) -> str:
    parts = [f"{k}={v}" for k, v in _pairs(info) if v]
    return " ".join(parts) or "—"


def _pairs(info: RuleInfo) -> list[tuple[str, str | None]]:
    return [("product", info.product), ("category", info.category), ("service", info.service)]
