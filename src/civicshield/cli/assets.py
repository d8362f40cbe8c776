"""`civicshield assets …`: list the inventory, show one asset, import a file (CSV, XLSX, Nmap
XML, CycloneDX, SPDX), write the import template."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
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
    from civicshield.assets import AssetRead, ImportPreview, RowPlan

assets = lazy_module("civicshield.assets")
vulns = lazy_module("civicshield.vulns")

__all__ = ["assets_app"]

assets_app = typer.Typer(
    help="Asset inventory: list, show, import (CSV, XLSX, Nmap, CycloneDX, SPDX), template.",
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
    if detail.software:
        print_table(
            ("Kind", "Vendor", "Name", "Version", "CPE / purl", "Source"),
            [
                (c.kind, c.vendor, c.name, c.version, c.purl or c.cpe or "", c.source)
                for c in detail.software
            ],
            title="Software",
        )
    print_table(
        ("When", "Who", "Field", "Old", "New"),
        [(fmt_time(c.at), c.actor, c.field, c.old, c.new) for c in detail.history],
        title="History (newest first)",
    )


def _software_summary(row: RowPlan) -> str:
    plan = row.software_plan
    if plan is None:
        return ""
    return f"software: +{len(plan.add)} ~{len(plan.change)} -{len(plan.remove)} ={plan.unchanged}"


def _print_preview(result: ImportPreview) -> None:
    rows = []
    for row in result.rows:
        what = "; ".join(
            [f"{e.where or e.column or 'row'}: {e.message}" for e in row.errors]
            or [f"{k}: {old!r} → {new!r}" for k, (old, new) in row.changes.items()]
            or ([row.matched_on] if row.matched_on else [])
        )
        software = _software_summary(row)
        warned = f"{len(row.warnings)} warning(s)" if row.warnings else ""
        details = "; ".join(part for part in (what, software, warned) if part)
        rows.append((row.line, row.action, row.asset_id, row.name, details))
    print_table(("Line", "Action", "Asset", "Name", "Details"), rows)
    if result.ignored_columns:
        console().print(f"ignored columns: {', '.join(result.ignored_columns)}")
    for row in result.rows:
        for warning in row.warnings:
            place = warning.where or f"line {warning.line}"
            console().print(f"warning: line {row.line}, {place}: {warning.message}")
    for note in result.notes:
        console().print(note)


FORMAT_HELP = "csv, xlsx, nmap, cyclonedx or spdx (default: sniffed from the content)."


@assets_app.command("import")
def import_file(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV, XLSX, Nmap XML, CycloneDX (JSON/XML) or SPDX (2.x JSON, 3.0 JSON-LD).",
        ),
    ],
    fmt: Annotated[str | None, typer.Option("--format", help=FORMAT_HELP)] = None,
    sector: Annotated[
        str | None, typer.Option(help=f"Sector of assets the import creates ({SECTORS}).")
    ] = None,
    zone: Annotated[str | None, typer.Option(help="Zone of assets the import creates.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="Kind of assets the import creates: it, iot or ot.")
    ] = None,
    criticality: Annotated[
        int | None, typer.Option(min=1, max=5, help="Criticality of assets it creates (1-5).")
    ] = None,
    asset_id: Annotated[
        int | None,
        typer.Option("--asset", help="SBOMs: attach the components to this asset (its id)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would change; write nothing.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Import an inventory file: new assets are created, known ones (same MAC, host name, IP in
    the zone, serial, or an SBOM's package URL) updated, with their software. Bad rows are
    reported with their place and skipped. --sector/--zone/--kind/--criticality apply to
    assets an Nmap or SBOM import creates."""
    defaults = model(
        assets.ImportDefaults,
        sector=parse_choice(Sector.parse, sector) if sector else None,
        zone=zone,
        kind=parse_choice(assets.AssetKind.parse, kind) if kind else None,
        criticality=criticality,
    )
    rt = state(ctx).runtime()
    with rt.session() as session:
        result = assets.preview_import(
            session,
            data=file.read_bytes(),
            filename=file.name,
            scope=None,
            fmt=fmt.strip().lower() if fmt else None,
            defaults=defaults,
            target_asset_id=asset_id,
        )
        follow_up = None
        if not dry_run:
            result = assets.apply(session, result, actor=cli_actor(), clock=rt.clock)
            follow_up = vulns.follow_inventory_import(
                session,
                asset_ids=[
                    r.asset_id
                    for r in result.rows
                    if r.action in ("create", "update") and r.asset_id
                ],
                fmt=result.format,
                data=file.read_bytes(),
                source=file.name,
                actor=cli_actor(),
                clock=rt.clock,
            )
    counts = result.counts
    if json_output:
        emit_json(
            {
                **result.model_dump(mode="json"),
                "counts": counts,
                "vulnerabilities": follow_up.model_dump() if follow_up else None,
            }
        )
    else:
        _print_preview(result)
        verb = "would create" if dry_run else "created"
        success(
            f"{file.name} ({result.format}): {verb} {counts['create']}, "
            f"{'would update' if dry_run else 'updated'} {counts['update']}, "
            f"{counts['unchanged']} unchanged, {counts['error']} row(s) with errors"
        )
        if follow_up is not None:
            m = follow_up.match
            console().print(
                f"vulnerabilities: {m.created} new finding(s), {m.reopened} re-opened, "
                f"{m.fixed} fixed"
                + (
                    f"; {follow_up.scan.created} from the scan's vulners script"
                    if follow_up.scan
                    else ""
                )
            )
    if counts["error"]:
        raise typer.Exit(1)


@assets_app.command("template")
def template(
    xlsx: Annotated[bool, typer.Option("--xlsx", help="An XLSX workbook instead of CSV.")] = False,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", dir_okay=False, help="Write to this file (else stdout)."),
    ] = None,
) -> None:
    """Write the import template (the header row of docs/assets.md) as CSV or XLSX."""
    data = assets.template_xlsx() if xlsx else assets.template_csv().encode("utf-8")
    if output is not None:
        output.write_bytes(data)
        success(f"wrote {output}")
        return
    if xlsx:
        fail("an XLSX workbook is binary: give -o FILE")
    sys.stdout.write(data.decode("utf-8"))
