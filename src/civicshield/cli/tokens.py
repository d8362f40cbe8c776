"""`civicshield token …`: API tokens for machines (created for a user, limited to scopes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    lazy_module,
    model,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.core import Invalid

if TYPE_CHECKING:
    from civicshield.accounts import Permission, TokenRead

__all__ = ["tokens_app"]

tokens_app = typer.Typer(
    help="API tokens for machines: create (shown once), list, revoke.", no_args_is_help=True
)

# the values of `Permission`, written out so that `civicshield --help` imports no database code
# (a test keeps them equal)
SCOPES = (
    "dashboard:view, profile:self, users:read, users:manage, tokens:own, tokens:manage,"
    " audit:read, audit:verify, jobs:read, jobs:manage, rules:read, rules:manage,"
    " assets:read, assets:manage, vulns:read, vulns:manage, vulns:policy, events:read,"
    " events:manage, events:ingest, alerts:read, alerts:triage, alerts:suppress,"
    " incidents:read, incidents:manage, incidents:notify, intel:read, intel:manage,"
    " intel:approve"
)
accounts = lazy_module("civicshield.accounts")
TOKEN_COLUMNS = (
    "ID",
    "Name",
    "User",
    "Prefix",
    "Scopes",
    "Created",
    "Expires",
    "Last used",
    "Revoked",
)


def _permission(value: str) -> Permission:
    try:
        return accounts.Permission(value.strip().lower())  # type: ignore[no-any-return]
    except ValueError:
        raise ValueError(f"{value!r} is not a valid scope (use one of: {SCOPES})") from None


def _row(token: TokenRead, owner: str) -> tuple[object, ...]:
    return (
        token.id,
        token.name,
        owner,
        token.prefix,
        [s.value for s in token.scopes],
        token.created_at,
        token.expires_at,
        token.last_used_at,
        token.revoked_at,
    )


@tokens_app.command("create")
def create(
    ctx: typer.Context,
    user: Annotated[str, typer.Option("--user", "-u", help="The user the token acts for.")],
    name: Annotated[str, typer.Option("--name", "-n", help="What uses it, e.g. 'SIEM forwarder'.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", "-s", help=f"A permission it grants (repeat): {SCOPES}."),
    ],
    expires_days: Annotated[int, typer.Option(min=1, max=3650, help="Days until it expires.")] = 90,
    no_expiry: Annotated[
        bool, typer.Option("--no-expiry", help="Never expires (prefer an expiry).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    scopes = [parse_choice(_permission, s) for s in scope]
    data = model(
        accounts.TokenCreate,
        name=name,
        scopes=scopes,
        expires_in_days=None if no_expiry else expires_days,
    )
    rt = state(ctx).runtime()
    with rt.session() as session:
        owner = accounts.get_user_by_username(session, user)
        token = accounts.create_token(
            session, data, owner_id=owner.id, actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json(token)
        return
    print_table(TOKEN_COLUMNS, [_row(token, owner.username)])
    success(f"created API token {token.id} for {owner.username}")
    out = console()
    out.print("The token (shown only once; send it as `Authorization: Bearer …`):")
    out.print(f"\n    {token.token}\n", style="bold")


@tokens_app.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user's.")] = None,
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 500,
    json_output: JsonOption = False,
) -> None:
    """List API tokens, newest first (never the secret part)."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        owner_id = accounts.get_user_by_username(session, user).id if user else None
        page = accounts.list_tokens(
            session, owner_id=owner_id, include_revoked=include_revoked, limit=limit
        )
        owners = {
            uid: accounts.get_user(session, uid).username for uid in {t.user_id for t in page.items}
        }
    if json_output:
        emit_json(page)
        return
    rows = [_row(t, owners[t.user_id]) for t in page.items]
    print_table(TOKEN_COLUMNS, rows, caption=f"{len(rows)} of {page.total} token(s)")


@tokens_app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's ID (token list).")],
    json_output: JsonOption = False,
) -> None:
    """Revoke an API token; it stops working at once."""
    if token_id < 1:
        raise Invalid(f"{token_id} is not a token ID")
    rt = state(ctx).runtime()
    with rt.session() as session:
        token = accounts.revoke_token(session, token_id, actor=cli_actor(), clock=rt.clock)
    if json_output:
        emit_json(token)
        return
    success(f"revoked API token {token.id} ({token.name}, {token.prefix})")
