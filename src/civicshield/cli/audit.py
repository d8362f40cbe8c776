"""`civicshield audit …`: verify the hash chain of the audit log and read it."""

from __future__ import annotations

from typing import Annotated

import typer

from civicshield.cli._common import JsonOption, emit_json, fail, print_table, state, success

__all__ = ["audit_app"]

audit_app = typer.Typer(
    help="The append-only, hash-chained audit log: verify it, read it.", no_args_is_help=True
)


@audit_app.command("verify")
def verify(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Verify the hash chain of the whole audit log.

    Exits 0 when intact; exits 1 naming the first entry that was edited, deleted or
    reordered (or a deleted tail)."""
    from civicshield import audit

    rt = state(ctx).runtime()
    with rt.session() as session:
        report = audit.verify_chain(session)
    if json_output:
        emit_json(report)
        if not report.ok:
            raise typer.Exit(1)
        return
    if not report.ok:
        fail(f"audit chain broken at entry {report.broken_at}: {report.reason}")
    success(f"audit chain intact: {report.checked} entries")


@audit_app.command("list")
def list_entries(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100000, help="Newest N entries.")] = 50,
    action: Annotated[
        str | None, typer.Option(help="Only actions starting with this, e.g. 'user.'.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor, e.g. 'cli:root'.")] = None,
    entity_type: Annotated[str | None, typer.Option(help="Only this kind of record.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Show audit entries, newest first."""
    from civicshield import audit

    rt = state(ctx).runtime()
    with rt.session() as session:
        page = audit.list_entries(
            session, limit=limit, action=action, actor=actor, entity_type=entity_type
        )
    if json_output:
        emit_json(page)
        return
    rows = [
        (e.seq, e.at, e.actor, e.action, f"{e.entity_type}:{e.entity_id}", e.summary)
        for e in page.items
    ]
    print_table(
        ("Seq", "At (UTC)", "Actor", "Action", "Record", "Summary"),
        rows,
        caption=f"{len(rows)} of {page.total} entries",
    )
