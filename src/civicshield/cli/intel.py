"""`civicshield intel …`: import threat intelligence (STIX bundles, MISP feeds and events, CSV
and plain lists), list and show indicators, export a STIX 2.1 bundle, load MISP warninglists,
list sources."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fail,
    fmt_time,
    lazy_module,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.core import Tlp

if TYPE_CHECKING:
    from civicshield.intel import ImportReport

intel = lazy_module("civicshield.intel")

__all__ = ["intel_app"]

intel_app = typer.Typer(
    help="Threat intelligence: import, list, show, export, warninglists, sources.",
    no_args_is_help=True,
)
warninglists_app = typer.Typer(
    help="MISP warninglists (known false positives).", no_args_is_help=True
)
intel_app.add_typer(warninglists_app, name="warninglists")

FORMATS = ("stix", "misp-feed", "misp-event", "csv")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path} does not exist")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{path}: not readable JSON: {exc}")


def _print_report(report: ImportReport) -> None:
    success(
        f"{report.source}: {report.read} read, {report.stored} stored ({report.new} new, "
        f"{report.new_versions} new versions), {report.unchanged} unchanged, "
        f"{report.skipped} skipped, {len(report.refused)} refused, "
        f"{report.not_matchable} not matchable"
    )
    for note in report.notes:
        typer.echo(f"note: {note}")
    for refusal in report.refused:
        typer.echo(f"refused {refusal.path} {refusal.stix_id}: {refusal.reason}".replace("  ", " "))


@intel_app.command("import")
def import_command(
    ctx: typer.Context,
    location: Annotated[str, typer.Argument(help="A file, a directory (MISP feed) or a URL.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help=f"One of: {', '.join(FORMATS)}.")
    ] = "stix",
    mapping: Annotated[
        str | None,
        typer.Option(help="CSV: 'column=type,…'; plain list: one type (e.g. 'domain')."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Import intelligence; bad objects are refused with the reason, the rest is stored."""
    if fmt not in FORMATS:
        fail(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    rt = state(ctx).runtime()
    actor, clock = cli_actor(), rt.clock
    decay = dict(rt.settings.intel_decay_days)
    with rt.session() as session:
        if fmt == "misp-feed":
            report = intel.import_misp_feed(
                session, location, actor=actor, clock=clock, decay_days=decay
            )
        elif intel.is_url(location):
            fail("only --format misp-feed reads from a URL; download the file first")
        elif fmt == "csv":
            if not mapping:
                fail("--mapping is required with --format csv (e.g. 'ip=ip-dst' or 'domain')")
            try:
                text = Path(location).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                fail(f"{location}: cannot read: {exc}")
            report = intel.import_csv(
                session, text, mapping=mapping, location=location, actor=actor, clock=clock,
                decay_days=decay, tlp=Tlp(rt.settings.intel_default_tlp),
            )  # fmt: skip
        else:
            data = _read_json(Path(location))
            func = intel.import_stix if fmt == "stix" else intel.import_misp_event
            report = func(
                session, data, location=location, actor=actor, clock=clock, decay_days=decay
            )
    if json_output:
        emit_json(report.as_dict())
    else:
        _print_report(report)


@intel_app.command("list")
def list_command(
    ctx: typer.Context,
    kind: Annotated[
        str | None, typer.Option("--type", help="Only this kind (ipv4, domain, url, sha256, …).")
    ] = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Only usable (or unusable) indicators."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000, help="At most this many.")] = 500,
    json_output: JsonOption = False,
) -> None:
    """List current indicators (latest version of each)."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        page = intel.list_indicators(
            session,
            intel.IndicatorFilter(kind=kind, active=active),
            now=rt.clock.now(),
            limit=limit,
        )
    if json_output:
        emit_json(page)
        return
    print_table(
        ("STIX id", "Kind", "TLP", "Active", "Expires", "Pattern", "Why not used"),
        (
            (
                i.stix_id,
                i.kind or "—",
                i.tlp or "—",
                i.active,
                fmt_time(i.expires_at),
                i.pattern,
                i.not_matchable
                or (
                    f"warninglist {i.suppressed_by}: {i.suppressed_entry}"
                    if i.suppressed_by
                    else ""
                )
                or ("revoked" if i.revoked else ""),
            )
            for i in page.items
        ),
        caption=f"{len(page.items)} of {page.total}",
    )


@intel_app.command("show")
def show_command(
    ctx: typer.Context,
    stix_id: Annotated[str, typer.Argument(help="The indicator's STIX id.")],
    json_output: JsonOption = False,
) -> None:
    """Show one indicator and every stored version of it."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        detail = intel.get_indicator(session, stix_id, now=rt.clock.now())
    if json_output:
        emit_json(detail)
        return
    for key in ("stix_id", "name", "pattern", "kind", "tlp", "active", "revoked", "valid_from"):
        typer.echo(f"{key}: {getattr(detail, key)}")
    typer.echo(f"expires_at: {fmt_time(detail.expires_at)}")
    if detail.not_matchable:
        typer.echo(f"not matchable: {detail.not_matchable}")
    if detail.suppressed_by:
        typer.echo(f"suppressed by warninglist {detail.suppressed_by}: {detail.suppressed_entry}")
    typer.echo(f"versions: {len(detail.versions)}")
    for version in detail.versions:
        typer.echo(f"  {version.get('modified', '—')}")


@intel_app.command("export")
def export_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Write the STIX bundle here.")],
    max_tlp: Annotated[
        str, typer.Option(help="Most restrictive TLP included: clear, green, amber…")
    ] = "amber",
    kind: Annotated[str | None, typer.Option("--type", help="Only this kind.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only indicators modified at or after this.")
    ] = None,
    local: Annotated[
        bool,
        typer.Option("--local", help="Local export: allows TLP:AMBER+STRICT and TLP:RED."),
    ] = False,
) -> None:
    """Export current indicators as a STIX 2.1 bundle (validated with stix2)."""
    level = parse_choice(Tlp.parse, max_tlp)
    rt = state(ctx).runtime()
    with rt.session() as session:
        bundle = intel.export_bundle(session, max_tlp=level, kind=kind, since=since, local=local)
    out.write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    count = sum(1 for o in bundle.get("objects", []) if o.get("type") == "indicator")
    success(f"wrote {out}: {count} indicators, {len(bundle.get('objects', []))} objects")


@warninglists_app.command("load")
def warninglists_load(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Argument(help="A directory of <name>/list.json (MISP/misp-warninglists lists/)."),
    ],
    json_output: JsonOption = False,
) -> None:
    """Load MISP warninglists and re-check every indicator against them."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        names = intel.load_warninglists(session, directory, actor=cli_actor(), clock=rt.clock)
        lists = intel.list_warninglists(session)
    if json_output:
        emit_json(lists)
        return
    success(f"loaded {len(names)} warninglists: {', '.join(names)}")


@warninglists_app.command("list")
def warninglists_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the loaded warninglists."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        lists = intel.list_warninglists(session)
    if json_output:
        emit_json(lists)
        return
    print_table(
        ("Name", "Type", "Version", "Entries", "Loaded"),
        ((w.name, w.type, w.version, w.entries, fmt_time(w.loaded_at)) for w in lists),
    )


@intel_app.command("sources")
def sources_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List where intelligence came from, with the counts of the last import."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        sources = intel.list_sources(session)
    if json_output:
        emit_json(sources)
        return
    print_table(
        ("ID", "Kind", "Location", "Last import", "Counts", "Last refusals"),
        (
            (s.id, s.kind, s.location, fmt_time(s.last_import_at), s.counts, s.last_error)
            for s in sources
        ),
    )


def _register_more() -> None:
    # Imported here: those modules may use helpers defined above.
    from civicshield.cli import intel_peers, intel_publish, intel_taxii

    for module in (intel_taxii, intel_peers, intel_publish):
        module.register(intel_app)


_register_more()
