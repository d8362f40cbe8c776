"""`civicshield incidents evidence add|list|get|verify|custody|transfer|rekey`: case evidence
from the command line (encrypted at rest, SHA-256 fixed at upload, chain of custody)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fail,
    fmt_time,
    print_table,
    state,
    success,
)

__all__ = ["register"]

evidence_app = typer.Typer(
    no_args_is_help=True,
    help="Case evidence: add files (encrypted), list, get, verify, custody, rotate the key.",
)
CaseArg = Annotated[int, typer.Argument(help="Case id.")]
EvidenceArg = Annotated[int, typer.Argument(help="Evidence id.")]


def _integrity(integrity: str, problem: str) -> str:
    return f"TAMPERED: {problem}" if integrity == "tampered" else integrity


@evidence_app.command("add")
def add(
    ctx: typer.Context,
    case_id: CaseArg,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to keep.")],
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    json_output: JsonOption = False,
) -> None:
    """Encrypt FILE into the evidence store of the case; prints its SHA-256."""
    from civicshield.incidents import evidence

    rt = state(ctx).runtime()
    with rt.session() as session, file.open("rb") as src:
        piece = evidence.add_evidence(
            session, rt.settings, case_id, src, filename=file.name, description=description,
            actor=cli_actor(), clock=rt.clock,
        )  # fmt: skip
    if json_output:
        emit_json(piece.model_dump(mode="json"))
        return
    success(f"evidence {piece.id}: {piece.filename}, {piece.size} bytes, SHA-256 {piece.sha256}")


@evidence_app.command("list")
def list_pieces(ctx: typer.Context, case_id: CaseArg, json_output: JsonOption = False) -> None:
    """The pieces of a case with their SHA-256 and last integrity check."""
    from civicshield.incidents import evidence

    rt = state(ctx).runtime()
    with rt.session() as session:
        pieces = evidence.list_evidence(session, case_id)
    if json_output:
        emit_json([p.model_dump(mode="json") for p in pieces])
        return
    print_table(
        ["id", "file", "size", "sha256", "uploaded", "by", "integrity", "custodian"],
        (
            [
                p.id,
                p.filename,
                p.size,
                p.sha256,
                fmt_time(p.uploaded_at),
                p.uploaded_by,
                _integrity(p.integrity, p.problem),
                p.custodian,
            ]
            for p in pieces
        ),
        caption=f"{len(pieces)} piece(s) of evidence in case {case_id}",
    )


@evidence_app.command("get")
def get(
    ctx: typer.Context,
    case_id: CaseArg,
    evidence_id: EvidenceArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write it (never replaced).")],
) -> None:
    """Decrypt a piece into --out, after checking it; refuses a tampered piece."""
    from civicshield.incidents import evidence

    if out.exists():
        fail(f"{out} exists already; choose another --out (evidence never overwrites a file)")
    rt = state(ctx).runtime()
    with rt.session() as session:
        opened = evidence.open_evidence(
            session, rt.settings, case_id, evidence_id, actor=cli_actor(), clock=rt.clock
        )
    try:
        with out.open("xb") as dest:
            for chunk in opened.chunks():
                dest.write(chunk)
    except BaseException:
        out.unlink(missing_ok=True)  # never leave a partial copy behind
        raise
    success(f"{out}: {opened.size} bytes, SHA-256 {opened.sha256}")


@evidence_app.command("verify")
def verify(
    ctx: typer.Context,
    case_id: CaseArg,
    evidence_id: Annotated[int | None, typer.Argument(help="One piece (default: all).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Decrypt and re-hash the case's pieces; exit 1 when any was tampered with."""
    from civicshield.incidents import evidence

    rt = state(ctx).runtime()
    with rt.session() as session:
        results = evidence.verify_evidence(
            session, rt.settings, case_id, evidence_id, actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json([r.model_dump() for r in results])
    else:
        print_table(
            ["id", "file", "result"],
            (
                [r.evidence_id, r.filename, "intact" if r.intact else f"TAMPERED: {r.problem}"]
                for r in results
            ),
        )
    if not all(r.intact for r in results):
        raise typer.Exit(1)


@evidence_app.command("custody")
def custody(
    ctx: typer.Context, case_id: CaseArg, evidence_id: EvidenceArg, json_output: JsonOption = False
) -> None:
    """The chain of custody of one piece, oldest first."""
    from civicshield.incidents import evidence

    rt = state(ctx).runtime()
    with rt.session() as session:
        piece = evidence.get_evidence(session, case_id, evidence_id)
    if json_output:
        emit_json([c.model_dump(mode="json") for c in piece.custody])
        return
    print_table(
        ["at", "actor", "action", "detail"],
        ([fmt_time(c.at), c.actor, c.action, c.detail] for c in piece.custody),
        caption=f"{piece.filename}: held by {piece.custodian}",
    )


@evidence_app.command("transfer")
def transfer(
    ctx: typer.Context,
    case_id: CaseArg,
    evidence_id: EvidenceArg,
    to: Annotated[str, typer.Option("--to", help="The person taking custody.")],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Hand custody of a piece to a named person (kept in the chain of custody)."""
    from civicshield.cli._common import model
    from civicshield.incidents import evidence

    rt = state(ctx).runtime()
    data = model(evidence.CustodyTransfer, to=to, note=note)
    with rt.session() as session:
        piece = evidence.transfer_custody(
            session, case_id, evidence_id, data, actor=cli_actor(), clock=rt.clock
        )
    success(f"evidence {piece.id} ({piece.filename}) is now held by {piece.custodian}")


@evidence_app.command("rekey")
def rekey(
    ctx: typer.Context,
    new_key: Annotated[
        str | None,
        typer.Option(
            "--new-key",
            envvar="CIVICSHIELD_NEW_EVIDENCE_KEY",
            help="Base64 of 32 bytes; required when CIVICSHIELD_EVIDENCE_KEY gives the key.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Re-encrypt every piece under a new key, then drop keys nothing uses any more."""
    from civicshield.incidents import evidence

    rt = state(ctx).runtime()
    key = evidence.decode_key(new_key, source="--new-key") if new_key else None
    report = evidence.rekey_evidence(
        rt.session, rt.settings, actor=cli_actor(), clock=rt.clock, new=key
    )
    if json_output:
        emit_json(report.model_dump())
    else:
        success(
            f"key {report.new_key_id}: {len(report.rekeyed)} re-encrypted, "
            f"{len(report.already)} already under it; dropped keys: "
            f"{', '.join(report.dropped_keys) or 'none'}"
        )
        for t in report.tampered:
            typer.echo(f"left alone, tampered: evidence {t.evidence_id} ({t.problem})", err=True)
        if rt.settings.evidence_key is not None:
            typer.echo("now set CIVICSHIELD_EVIDENCE_KEY to the new key", err=True)
    if report.tampered:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the evidence commands to `civicshield incidents` (as `incidents evidence ...`)."""
    app.add_typer(evidence_app, name="evidence")
