"""`civicshield incidents notice list|draft|send|show` and `civicshield incidents register
list|record|export|verify`: legal notices and the confidentiality-incident register from the
command line (list, show, verify and the changes take `--json`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fmt_time,
    model,
    print_table,
    state,
    success,
)
from civicshield.core.errors import FieldError, Invalid

__all__ = ["register"]

FieldOption = Annotated[
    list[str] | None, typer.Option("--field", "-f", help="id=text (repeat for each field).")
]


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise Invalid(
                f"--field {item!r}: write {what}=text", [FieldError(("field",), "not id=text")]
            )
        out[name.strip()] = value
    return out


def _when(value: str | None, zone: str) -> datetime | None:
    """ISO 8601 with an offset as given, or a local time in the city's zone."""
    from civicshield.incidents.clocks import parse_local

    if not value:
        return None
    try:
        given = datetime.fromisoformat(value)
    except ValueError:
        given = None
    if given is not None and given.tzinfo is not None:
        return given
    return parse_local(value, zone).utc


def _emit(json_output: bool, data: Any, message: str) -> None:
    if json_output:
        emit_json(data.model_dump(mode="json"))
    else:
        success(message)


def _notice_list(ctx: typer.Context, case_id: int, json_output: JsonOption = False) -> None:
    """A case's notices (obligation, recipient, channel, status, sent at, copy hash)."""
    from civicshield.incidents.notices import list_notices, offered_profiles

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = list_notices(session, case_id, offered_profiles(rt.settings))
    if json_output:
        emit_json([n.model_dump(mode="json") for n in found])
        return
    print_table(
        ["id", "obligation", "recipient", "channel", "status", "sent at", "sha256"],
        (
            [
                n.id,
                n.obligation_id,
                n.recipient,
                n.channel,
                n.status,
                fmt_time(n.sent_at),
                n.copy_sha256[:16],
            ]
            for n in found
        ),
    )


def _notice_draft(
    ctx: typer.Context,
    case_id: int,
    obligation_id: Annotated[str, typer.Argument(help="e.g. qc-a21.cai, gdpr.art33.")],
    lang: Annotated[str, typer.Option("--lang", help="en, es or fr.")] = "en",
    to: Annotated[str, typer.Option("--to", help="Address (an e-mail for --channel email).")] = "",
    recipient: Annotated[str, typer.Option("--recipient", help="Default: the law's.")] = "",
    channel: Annotated[
        str, typer.Option(help="email, letter, portal, phone, in_person.")
    ] = "email",
    field: FieldOption = None,
    json_output: JsonOption = False,
) -> None:
    """Draft a notice with the obligation's required fields (prefilled from the case)."""
    from civicshield.incidents.notices import NoticeCreate, create_notice, offered_profiles

    rt = state(ctx).runtime()
    data = model(
        NoticeCreate, obligation_id=obligation_id, language=lang, address=to, recipient=recipient,
        channel=channel, fields=_pairs(field, "id")
    )  # fmt: skip
    with rt.session() as session:
        made = create_notice(
            session, case_id, data, offered_profiles(rt.settings), actor=cli_actor(), clock=rt.clock
        )
    missing = [f.id for f in made.required if not f.value]
    note = f"; still to fill: {', '.join(missing)}" if missing else ""
    _emit(json_output, made, f"notice {made.id} drafted for {made.obligation_id}{note}")


def _notice_send(
    ctx: typer.Context,
    case_id: int,
    notice_id: int,
    at: Annotated[str | None, typer.Option("--at", help="When sent by another channel.")] = None,
    field: FieldOption = None,
    json_output: JsonOption = False,
) -> None:
    """Send by e-mail now, or record a letter/portal/phone notice as sent (--at, default now)."""
    from civicshield.incidents.notices import (
        NoticeUpdate,
        offered_profiles,
        send_notice,
        update_notice,
    )

    rt = state(ctx).runtime()
    profiles = offered_profiles(rt.settings)
    sent_at = _when(at, rt.settings.default_timezone)
    with rt.session() as session:
        if field:
            update_notice(
                session, case_id, notice_id, NoticeUpdate(fields=_pairs(field, "id")), profiles,
                actor=cli_actor(), clock=rt.clock
            )  # fmt: skip
        sent = send_notice(
            session, case_id, notice_id, profiles, mailer=rt.mailer, city=rt.settings.city_name,
            actor=cli_actor(), clock=rt.clock, sent_at=sent_at
        )  # fmt: skip
    _emit(json_output, sent, f"notice {sent.id} sent ({sent.channel}), sha256 {sent.copy_sha256}")


def _notice_show(
    ctx: typer.Context, case_id: int, notice_id: int, json_output: JsonOption = False
) -> None:
    """One notice: its fields, or the copy sent."""
    from civicshield.incidents.notices import get_notice, offered_profiles

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = get_notice(session, case_id, notice_id, offered_profiles(rt.settings))
    if json_output:
        emit_json(found.model_dump(mode="json"))
        return
    typer.echo(
        f"{found.obligation_id} → {found.recipient} <{found.address}> ({found.channel}), "
        f"{found.status}"
    )
    if found.copy_text:
        typer.echo(found.copy_text)
        return
    for f in found.required:
        typer.echo(f"{f.id} ({f.label}, {f.article}): {f.value or '— missing'}")


def _register_list(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The latest register entry of each case."""
    from civicshield.incidents.notices import list_register

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = list_register(session)
    if json_output:
        emit_json([e.model_dump(mode="json") for e in found])
        return
    print_table(
        ["case", "version", "recorded", "by", "keep until", "hash"],
        (
            [
                e.case_id,
                e.version,
                fmt_time(e.recorded_at),
                e.recorded_by,
                fmt_time(e.retain_until),
                e.hash[:16],
            ]
            for e in found
        ),
    )


def _register_record(
    ctx: typer.Context, case_id: int, field: FieldOption = None, json_output: JsonOption = False
) -> None:
    """Record a new version of the case's entry (fields not given keep their value)."""
    from civicshield.incidents.notices import offered_profiles, record_entry

    rt = state(ctx).runtime()
    with rt.session() as session:
        entry = record_entry(
            session, case_id, _pairs(field, "name"), offered_profiles(rt.settings),
            actor=cli_actor(), clock=rt.clock
        )  # fmt: skip
    _emit(json_output, entry, f"case {case_id}: register version {entry.version} ({entry.hash})")


def _register_export(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or pdf.")] = "csv",
    since: Annotated[str | None, typer.Option(help="Recorded from (local or ISO).")] = None,
    until: Annotated[str | None, typer.Option(help="Recorded before (local or ISO).")] = None,
    lang: Annotated[str, typer.Option("--lang", help="en, es or fr.")] = "en",
    all_versions: Annotated[bool, typer.Option("--all-versions")] = False,
) -> None:
    """The register as CSV (UTF-8 with BOM) or PDF, for a regulator's request."""
    from civicshield.incidents.notices import (
        list_register,
        register_csv,
        register_pdf,
        verify_register,
    )

    if fmt not in ("csv", "pdf") or lang not in ("en", "es", "fr"):
        raise Invalid("--format is csv or pdf; --lang is en, es or fr")
    rt = state(ctx).runtime()
    zone = rt.settings.default_timezone
    start, end = _when(since, zone), _when(until, zone)
    with rt.session() as session:
        found = list_register(session, since=start, until=end, all_versions=all_versions)
        check = verify_register(session)
    if fmt == "csv":
        data = register_csv(found, language=lang)
    else:
        data = register_pdf(
            found, check, language=lang, city=rt.settings.city_name, generated_at=rt.clock.now(),
            tz=zone, period=f"{since or '…'} – {until or '…'}"
        )  # fmt: skip
    out.write_bytes(data)
    success(f"{len(found)} entries written to {out}")


def _register_verify(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Recompute the register's hash chain; exit 1 naming the first broken row."""
    from civicshield.incidents.notices import verify_register

    rt = state(ctx).runtime()
    with rt.session() as session:
        check = verify_register(session)
    if json_output:
        emit_json(check.model_dump(mode="json"))
    elif check.ok:
        success(f"register chain intact ({check.rows} rows)")
    if not check.ok:
        if not json_output:
            typer.echo(
                f"register chain broken at row {check.first_broken_id}: {check.reason}", err=True
            )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the notices and register commands to `civicshield incidents`."""
    notice_app = typer.Typer(no_args_is_help=True, help="Legal notices of a case.")
    notice_app.command("list")(_notice_list)
    notice_app.command("draft")(_notice_draft)
    notice_app.command("send")(_notice_send)
    notice_app.command("show")(_notice_show)
    app.add_typer(notice_app, name="notice")
    register_app = typer.Typer(no_args_is_help=True, help="The confidentiality-incident register.")
    register_app.command("list")(_register_list)
    register_app.command("record")(_register_record)
    register_app.command("export")(_register_export)
    register_app.command("verify")(_register_verify)
    app.add_typer(register_app, name="register")
