"""`civicshield assets …`: list the inventory, show one asset, import a CSV file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fmt_time,
    lazy_module,
    model,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.core import Sector

if TYPE_CHECKING:
    from civicshield.assets import AssetRead, ImportPreview

assets = lazy_module("civicshield.assets")

__all__ = ["assets_app"]

assets_app = typer.Typer(
    help="Asset inventory: list, show, import (CSV; template in docs/assets.md).",
    no_args_is_help=True,
)

SECTORS = ", ".join(s.value for s in Sector)
ASSET_COLUMNS = (
    "ID",
    "Name",
    "Sector",
    "Zone",
    "Kind",
    "Vendor",
    "Product",
    "Version",
    "IPs",
    "Crit.",
    "Exposed",
    "Lifecycle",
)


def _row(asset: AssetRead) -> tuple[object, ...]:
    return (
        asset.id,
        asset.name,
        asset.sector.value,
        asset.zone,
        asset.kind.value,
        asset.vendor,
        asset.product,
        asset.version,
        asset.ips,
        f"{asset.criticality} {asset.criticality_label.lower()}",
        asset.internet_exposed,
        asset.lifecycle.value,
    )


@assets_app.command("list")
def list_assets(
    ctx: typer.Context,
    sector: Annotated[str | None, typer.Option(help=f"Only this sector ({SECTORS}).")] = None,
    zone: Annotated[str | None, typer.Option(help="Only this network zone.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind: it, iot or ot.")] = None,
    min_criticality: Annotated[
        int | None, typer.Option(min=1, max=5, help="Criticality at least this (1-5).")
    ] = None,
    exposed: Annotated[
        bool | None,
        typer.Option("--exposed/--not-exposed", help="Only internet-exposed (or unexposed)."),
    ] = None,
    lifecycle: Annotated[str | None, typer.Option(help="active or retired.")] = None,
    search: Annotated[
        str | None, typer.Option(help="Match name, vendor, product, serial, host, IP, MAC.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100000, help="At most this many.")] = 500,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many.")] = 0,
    json_output: JsonOption = False,
) -> None:
    """List assets, sorted by sector then name."""
    filters = model(
        assets.AssetFilter,
        sector=parse_choice(Sector.parse, sector) if sector else None,
        zone=zone,
        kind=parse_choice(assets.AssetKind.parse, kind) if kind else None,
        min_criticality=min_criticality,
        internet_exposed=exposed,
        lifecycle=parse_choice(assets.Lifecycle.parse, lifecycle) if lifecycle else None,
        q=search,
    )
    rt = state(ctx).runtime()
    with rt.session() as session:
        page = assets.list_assets(session, filters, limit=limit, offset=offset)
    if json_output:
        emit_json(page)
        return
    caption = f"{len(page.items)} of {page.total} asset(s)"
    print_table(ASSET_COLUMNS, [_row(a) for a in page.items], caption=caption)


@assets_app.command("show")
def show(
    ctx: typer.Context,
    asset_id: Annotated[int, typer.Argument(help="The asset's id (see `assets list`).")],
    json_output: JsonOption = False,
) -> None:
    """Show one asset with its identifiers and change history."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        detail = assets.get_asset_detail(session, asset_id)
    if json_output:
        emit_json(detail)
        return
    out = console()
    for name, value in detail.model_dump(exclude={"history"}).items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        out.print(f"{name:>17}: {'—' if shown in (None, '') else shown}")
    print_table(
        ("When", "Who", "Field", "Old", "New"),
        [(fmt_time(c.at), c.actor, c.field, c.old, c.new) for c in detail.history],
        title="History (newest first)",
    )


def _print_preview(result: ImportPreview) -> None:
    rows = []
    for row in result.rows:
        what = "; ".join(
            [f"{e.column or 'row'}: {e.message}" for e in row.errors]
            or [f"{k}: {old!r} → {new!r}" for k, (old, new) in row.changes.items()]
            or ([row.matched_on] if row.matched_on else [])
        )
        rows.append((row.line, row.action, row.asset_id, row.name, what))
    print_table(("Line", "Action", "Asset", "Name", "Details"), rows)
    if result.ignored_columns:
        console().print(f"ignored columns: {', '.join(result.ignored_columns)}")


@assets_app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A CSV file.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change; write nothing.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Import a CSV inventory: new assets are created, known ones (same MAC, host name, IP in
    the zone, or serial) updated. Bad rows are reported with line and column and skipped."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        result = assets.preview_csv(session, file.read_bytes(), source=file.name)
        if not dry_run:
            result = assets.apply(session, result, actor=cli_actor(), clock=rt.clock)
    counts = result.counts
    if json_output:
        emit_json({**result.model_dump(mode="json"), "counts": counts})
    else:
        _print_preview(result)
        verb = "would create" if dry_run else "created"
        success(
            f"{file.name}: {verb} {counts['create']}, "
            f"{'would update' if dry_run else 'updated'} {counts['update']}, "
            f"{counts['unchanged']} unchanged, {counts['error']} row(s) with errors"
        )
    if counts["error"]:
        raise typer.Exit(1)
