"""`civicshield user …`: add, list, disable, enable users and reset their passwords."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    lazy_module,
    model,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.core import Role, Sector

if TYPE_CHECKING:
    from civicshield.accounts import UserRead

accounts = lazy_module("civicshield.accounts")

__all__ = ["users_app"]

users_app = typer.Typer(
    help="User accounts: add, list, disable, enable, reset passwords.", no_args_is_help=True
)

ROLES = ", ".join(r.value for r in Role)
SECTORS = ", ".join(s.value for s in Sector)
USER_COLUMNS = (
    "Username",
    "Name",
    "Role",
    "Sectors",
    "Active",
    "2FA",
    "Language",
    "Time zone",
    "Last login",
)


def _row(user: UserRead) -> tuple[object, ...]:
    return (
        user.username,
        user.display_name,
        user.role.value,
        [s.value for s in user.sectors],
        user.is_active,
        user.totp_enabled,
        user.language,
        user.timezone,
        user.last_login_at,
    )


def _show_password(label: str, password: str) -> None:
    out = console()
    out.print(f"{label} (shown only once, store it safely):")
    out.print(f"\n    {password}\n", style="bold")


@users_app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, . _ -")],
    role: Annotated[str, typer.Option("--role", "-r", help=f"One of: {ROLES}.")],
    sector: Annotated[
        list[str] | None,
        typer.Option("--sector", "-s", help=f"Sector of a sector operator (repeat). {SECTORS}."),
    ] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    display_name: Annotated[str, typer.Option(help="Full name shown in the UI.")] = "",
    language: Annotated[str, typer.Option(help="UI language: en, es-MX or fr-CA.")] = "en",
    timezone: Annotated[
        str | None, typer.Option(help="IANA time zone (default: CIVICSHIELD_DEFAULT_TIMEZONE).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(help="The password (visible in shell history: prefer the prompt)."),
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Generate a strong password and print it once.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Add a user. Without --password or --generate, the password is prompted for twice."""
    if password is not None and generate:
        fail("use either --password or --generate, not both", code=2)
    role_value: Role = parse_choice(Role.parse, role)
    sectors: list[Sector] = [parse_choice(Sector.parse, s) for s in sector or []]
    st = state(ctx)
    rt = st.runtime()
    fields = {
        "username": username,
        "role": role_value,
        "sectors": sectors,
        "email": email,
        "display_name": display_name,
        "language": language,
        "timezone": timezone or rt.settings.default_timezone,
    }
    # Report bad fields before asking for a password.
    model(accounts.UserCreate, password="-", **fields)  # noqa: S106 - a placeholder, never stored
    if generate:
        password = accounts.generate_password(username)
    elif password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with rt.session() as session:
        user = accounts.create_user(
            session,
            model(accounts.UserCreate, password=password, **fields),
            actor=cli_actor(),
            clock=rt.clock,
            config=rt.accounts,
        )
    if json_output:
        emit_json({"user": user, "password": password if generate else None})
        return
    print_table(USER_COLUMNS, [_row(user)])
    success(f"created user {user.username} ({user.role.value})")
    if generate:
        _show_password(f"password of {user.username}", password)


@users_app.command("list")
def list_users(
    ctx: typer.Context,
    role: Annotated[str | None, typer.Option(help=f"Only this role ({ROLES}).")] = None,
    active: Annotated[
        bool | None, typer.Option("--active/--disabled", help="Only active or disabled users.")
    ] = None,
    search: Annotated[str | None, typer.Option(help="Match username, name or e-mail.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="At most this many.")] = 500,
    json_output: JsonOption = False,
) -> None:
    """List users, sorted by username."""
    role_value: Role | None = parse_choice(Role.parse, role) if role else None
    rt = state(ctx).runtime()
    with rt.session() as session:
        page = accounts.list_users(session, q=search, role=role_value, active=active, limit=limit)
    if json_output:
        emit_json(page)
        return
    caption = f"{len(page.items)} of {page.total} user(s)"
    print_table(USER_COLUMNS, [_row(u) for u in page.items], caption=caption)


def _set_active(ctx: typer.Context, username: str, active: bool, json_output: bool) -> None:
    rt = state(ctx).runtime()
    with rt.session() as session:
        before = accounts.get_user_by_username(session, username)
        user = accounts.set_active(session, before.id, active, actor=cli_actor(), clock=rt.clock)
    if json_output:
        emit_json(user)
    elif before.is_active == active:
        success(f"{user.username} is already {'active' if active else 'disabled'}")
    elif active:
        success(f"enabled {user.username}")
    else:
        success(f"disabled {user.username}: its sessions ended and its API tokens were revoked")


@users_app.command("disable")
def disable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to disable.")],
    json_output: JsonOption = False,
) -> None:
    """Disable a user: no more logins; sessions end and API tokens are revoked."""
    _set_active(ctx, username, False, json_output)


@users_app.command("enable")
def enable(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The user to enable again.")],
    json_output: JsonOption = False,
) -> None:
    """Enable a disabled user again (revoked API tokens stay revoked)."""
    _set_active(ctx, username, True, json_output)


@users_app.command("reset-password")
def reset_password(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="Whose password to reset.")],
    password: Annotated[
        str | None, typer.Option(help="The new password (default: generate one, shown once).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Set a new password, unlock the account and end its sessions.

    The user must change the password at the next login."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        user = accounts.get_user_by_username(session, username)
        new = accounts.reset_password(
            session,
            user.id,
            actor=cli_actor(),
            clock=rt.clock,
            config=rt.accounts,
            new_password=password,
        )
    if json_output:
        emit_json(
            {
                "username": user.username,
                "password": None if password else new,
                "must_change_password": True,
            }
        )
        return
    success(f"reset the password of {user.username}; they must change it at the next login")
    if password is None:
        _show_password(f"new password of {user.username}", new)
