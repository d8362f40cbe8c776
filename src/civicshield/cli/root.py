"""The root of the `civicshield` command: its global options, `version`, and the app factory
that the full command tree and the one-command fast path (`civicshield.cli.main`) share."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer

from civicshield import __version__
from civicshield.cli._common import CliGroup, CliState, JsonOption, emit_json
from civicshield.core.logging import configure_logging

__all__ = ["new_app", "version"]


def root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory for this run (sets CIVICSHIELD_DATA_DIR).",
            file_okay=False,
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Database URL (sets CIVICSHIELD_DATABASE_URL).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Debug logging; tracebacks of unexpected errors."),
    ] = False,
) -> None:
    """CivicShield: defend a smart city with a small security team.

    Settings come from CIVICSHIELD_* environment variables and ./.env. Start with
    `civicshield init`, then `civicshield serve` (or `civicshield demo` first)."""
    configure_logging("DEBUG" if verbose else "WARNING")
    cli_state = CliState(
        data_dir=data_dir.resolve() if data_dir else None,
        database_url=database_url,
        verbose=verbose,
    )
    ctx.obj = cli_state
    ctx.call_on_close(cli_state.close)


# The options `root` takes, for finding the command's name in argv without building the tree.
ROOT_VALUE_OPTIONS = ("--data-dir", "--database-url")
ROOT_FLAGS = ("--verbose", "-v")


def new_app() -> typer.Typer:
    """An app with the root options and no commands yet."""
    app = typer.Typer(
        cls=CliGroup,
        name="civicshield",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    return app


def version(json_output: JsonOption = False) -> None:
    """Print the CivicShield version."""
    if json_output:
        emit_json({"version": __version__, "python": platform.python_version()})
        return
    typer.echo(f"civicshield {__version__} (Python {platform.python_version()})")
