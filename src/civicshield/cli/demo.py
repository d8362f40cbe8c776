"""`civicshield demo`: load the demo city and print how to log in."""

from __future__ import annotations

import typer

from civicshield.cli._common import JsonOption, cli_actor, console, emit_json, print_table, state
from civicshield.cli.serve import listen_url

__all__ = ["demo"]


def demo(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Load the demo city and print the admin login and the URL.

    Creates a user for every role, a demo API token and the plugins' sample data; the shared
    password is kept in <data-dir>/demo-credentials.txt. Safe to run again."""
    from civicshield.demo import load_demo

    rt = state(ctx).runtime()
    result = load_demo(rt, actor=cli_actor())
    url = listen_url(rt.settings)
    if json_output:
        emit_json({**result.as_dict(), "url": url})
        return
    created, reset = set(result.users_created), set(result.passwords_reset)
    rows = [
        (
            p.username,
            p.display_name,
            p.role.value,
            [s.value for s in p.sectors],
            p.language,
            p.timezone,
            "created"
            if p.username in created
            else "password reset"
            if p.username in reset
            else "present",
        )
        for p in result.people
    ]
    print_table(
        ("Username", "Name", "Role", "Sectors", "Language", "Time zone", "Status"),
        rows,
        title=f"Demo city: {result.city}",
    )
    out = console()
    if not result.changed:
        out.print("The demo city was already loaded; nothing changed.")
    if result.token_created:
        out.print(
            f"Created the API token 'Demo SIEM forwarder' (stored in {result.credentials_path})."
        )
    if result.job_queued:
        out.print("Queued an audit.verify job (a worker runs it).")
    for note in result.notes:
        out.print(f"note: {note}", style="yellow")
    out.print()
    out.print(f"Log in at {url} as {result.admin_username} with the password", style="bold")
    out.print(f"\n    {result.password}\n", style="bold")
    out.print(f"(all demo accounts share it; it is kept in {result.credentials_path})")
