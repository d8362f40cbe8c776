"""The `civicshield` command line (Typer + Rich).

    civicshield [--data-dir PATH] [--database-url URL] [-v] COMMAND …

Commands: `init`, `serve`, `demo`, `version`, `detect`, `ingest`, `hunt`, and the groups `db`,
`user`, `token`, `audit`, `worker`, `jobs`, `mail`, `rules`, `segmentation`, `assets`,
`vulns`, `risk`, `alerts`, `incidents`, `intel`, `quarantine`, `events`; each has `--help`.
Data commands accept `--json` (one JSON document on stdout). Errors print one red `error: …`
line on stderr and exit 1 (usage errors exit 2).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer

from civicshield import __version__
from civicshield.cli._common import CliGroup, CliState, JsonOption, emit_json
from civicshield.cli.alerts import alerts_app
from civicshield.cli.assets import assets_app
from civicshield.cli.audit import audit_app
from civicshield.cli.db import db_app, init
from civicshield.cli.demo import demo as demo_command
from civicshield.cli.detect import detect as detect_command
from civicshield.cli.hunt import hunt as hunt_command
from civicshield.cli.incidents import incidents_app
from civicshield.cli.ingest import events_app, quarantine_app
from civicshield.cli.ingest import ingest as ingest_command
from civicshield.cli.intel import intel_app
from civicshield.cli.jobs import jobs_app
from civicshield.cli.mail import mail_app
from civicshield.cli.risk import risk_app
from civicshield.cli.rules import rules_app
from civicshield.cli.segmentation import segmentation_app
from civicshield.cli.serve import serve as serve_command
from civicshield.cli.stream import register as register_stream
from civicshield.cli.tokens import tokens_app
from civicshield.cli.users import users_app
from civicshield.cli.vulns import vulns_app
from civicshield.cli.worker import worker_app
from civicshield.core.logging import configure_logging

__all__ = ["app", "main"]

app = typer.Typer(
    cls=CliGroup,
    name="civicshield",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
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


def version(json_output: JsonOption = False) -> None:
    """Print the CivicShield version."""
    if json_output:
        emit_json({"version": __version__, "python": platform.python_version()})
        return
    typer.echo(f"civicshield {__version__} (Python {platform.python_version()})")


app.command("init")(init)
app.command("serve")(serve_command)
app.command("demo")(demo_command)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="user")
app.add_typer(tokens_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(worker_app, name="worker")
app.add_typer(jobs_app, name="jobs")
app.add_typer(mail_app, name="mail")
app.add_typer(rules_app, name="rules")
app.add_typer(segmentation_app, name="segmentation")
app.add_typer(assets_app, name="assets")
app.add_typer(alerts_app, name="alerts")
app.add_typer(incidents_app, name="incidents")
app.add_typer(intel_app, name="intel")
app.add_typer(vulns_app, name="vulns")
app.add_typer(risk_app, name="risk")
app.command("detect")(detect_command)
app.command("hunt")(hunt_command)
app.command("ingest")(ingest_command)
app.add_typer(quarantine_app, name="quarantine")
register_stream(events_app)
app.add_typer(events_app, name="events")
app.command("version")(version)


def main() -> None:
    """Entry point of the `civicshield` script and `python -m civicshield`."""
    app(prog_name="civicshield")
