"""`civicshield intel taxii-seed FILE` and `civicshield intel taxii list|member-add|
collection-add|grant`: set up the TAXII 2.1 server (docs/taxii.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fail,
    lazy_module,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.core import Tlp

taxii = lazy_module("civicshield.intel.taxii")

__all__ = ["register"]

taxii_app = typer.Typer(
    help="The TAXII 2.1 server: API roots, collections, members.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add `taxii-seed` and the `taxii` group to `app` (the `intel` group)."""
    app.command("taxii-seed")(seed_command)
    app.add_typer(taxii_app, name="taxii")


def _users(values: list[str]) -> dict[str, str]:
    users = {}
    for value in values:
        name, sep, password = value.partition(":")
        if not sep or not name or not password:
            fail(f"--user {value.split(':')[0]!r}: expected NAME:PASSWORD")
        users[name] = password
    return users


def seed_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A medallion data file (JSON).")],
    user: Annotated[
        list[str] | None,
        typer.Option("--user", help="NAME:PASSWORD of a TAXII member to create (repeatable)."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Remove every TAXII root, collection and member first."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Load a medallion data file (bad entries are reported by JSON path; the rest loads)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{path} does not exist")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        fail(f"{path}: not readable JSON: {exc}")
    rt = state(ctx).runtime()
    users = _users(user or [])
    with rt.session() as session:
        report = taxii.seed(
            session,
            data,
            hasher=rt.accounts.hasher,
            now=rt.clock.now(),
            users=users,
            replace=replace,
        )
    if report.discovery:
        taxii.save_discovery(rt.settings.data_dir, report.discovery)
    if json_output:
        emit_json(report)
        return
    success(
        f"{path}: {report.api_roots} API roots, {report.collections} collections, "
        f"{report.objects} objects, {report.statuses} statuses, {report.members} members, "
        f"{report.grants} grants; {len(report.problems)} problems"
    )
    for where, reason in report.problems:
        typer.echo(f"problem {where}: {reason}")


@taxii_app.command("list")
def list_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List API roots, collections and members."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        roots = taxii.list_api_roots(session)
        collections = taxii.list_collections(session)
        members = taxii.list_members(session)
    if json_output:
        emit_json({"api_roots": roots, "collections": collections, "members": members})
        return
    print_table(
        ("API root", "Title", "Default", "Max bytes"),
        ((r.slug, r.title, r.is_default, r.max_content_length) for r in roots),
        title="API roots",
    )
    print_table(
        (
            "Collection",
            "API root",
            "Title",
            "TLP",
            "Topic",
            "Multi-city",
            "Read",
            "Write",
            "Objects",
        ),
        (
            (
                c.uuid,
                c.api_root,
                c.title,
                c.tlp,
                c.topic,
                c.multi_city,
                c.can_read,
                c.can_write,
                c.object_count,
            )
            for c in collections
        ),
        title="Collections (read/write: defaults for members without a grant)",
    )
    print_table(
        ("Member", "City", "API roots", "Active", "Grants"),
        (
            (
                m.username,
                m.city,
                m.api_roots or "all",
                m.active,
                [
                    f"{u}:{'r' if g['can_read'] else ''}{'w' if g['can_write'] else ''}"
                    for u, g in m.grants.items()
                ],
            )
            for m in members
        ),
        title="Members",
    )


@taxii_app.command("member-add")
def member_add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The member's user name (HTTP Basic).")],
    city: Annotated[str, typer.Option(help="The peer city this account belongs to.")] = "",
    root: Annotated[
        list[str] | None,
        typer.Option("--root", help="Limit to this API root (repeatable; default: every root)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Add a TAXII member (no --password-stdin: a generated password is printed once)."""
    from civicshield.accounts import generate_password

    password = sys.stdin.readline().rstrip("\n") if password_stdin else generate_password(name)
    if not password:
        fail("--password-stdin: standard input held no password")
    rt = state(ctx).runtime()
    with rt.session() as session:
        member = taxii.create_member(
            session,
            name,
            password,
            hasher=rt.accounts.hasher,
            city=city,
            api_root_slugs=list(root or []),
            now=rt.clock.now(),
            actor=cli_actor(),
        )
    if json_output:
        emit_json(member if password_stdin else {**member.model_dump(), "password": password})
        return
    success(
        f"TAXII member {member.username} added ({', '.join(member.api_roots) or 'every API root'})"
    )
    if not password_stdin:
        typer.echo(f"password (shown once): {password}")


@taxii_app.command("collection-add")
def collection_add_command(
    ctx: typer.Context,
    root: Annotated[str, typer.Argument(help="The API root's name.")],
    title: Annotated[str, typer.Argument(help="The collection's title.")],
    tlp: Annotated[str | None, typer.Option(help="Most restrictive TLP it may hold.")] = None,
    topic: Annotated[str, typer.Option(help="What it is about (cameras, scada, …).")] = "",
    multi_city: Annotated[
        bool, typer.Option("--multi-city/--single-city", help="Read by several cities?")
    ] = True,
    read: Annotated[bool, typer.Option("--read/--no-read", help="Members may read.")] = True,
    write: Annotated[bool, typer.Option("--write/--no-write", help="Members may add.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Add a collection to an API root (read/write: defaults for members without a grant)."""
    level = parse_choice(Tlp.parse, tlp) if tlp else None
    rt = state(ctx).runtime()
    with rt.session() as session:
        created = taxii.create_collection(
            session,
            root,
            title,
            now=rt.clock.now(),
            topic=topic,
            tlp=level,
            multi_city=multi_city,
            can_read=read,
            can_write=write,
            actor=cli_actor(),
        )
    if json_output:
        emit_json(created)
        return
    success(f"collection {created.uuid} added to {root}")


@taxii_app.command("grant")
def grant_command(
    ctx: typer.Context,
    member: Annotated[str, typer.Argument(help="The member's user name.")],
    collection: Annotated[str, typer.Argument(help="The collection's id (UUID).")],
    read: Annotated[bool, typer.Option("--read", help="May read.")] = False,
    write: Annotated[bool, typer.Option("--write", help="May add and delete.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Set one member's rights on one collection (no flag: no access)."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        found = taxii.set_grant(
            session,
            member,
            collection,
            can_read=read,
            can_write=write,
            now=rt.clock.now(),
            actor=cli_actor(),
        )
    if json_output:
        emit_json(found)
        return
    success(f"{member} on {collection}: read={read} write={write}")
