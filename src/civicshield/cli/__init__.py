"""The `civicshield` command line (Typer + Rich).

    civicshield [--data-dir PATH] [--database-url URL] [-v] COMMAND …

Commands: `init`, `serve`, `demo`, `version`, `detect`, `ingest`, `hunt`, and the groups `db`,
`user`, `token`, `audit`, `worker`, `jobs`, `mail`, `rules`, `segmentation`, `assets`,
`vulns`, `risk`, `alerts`, `incidents`, `intel`, `quarantine`, `events`; each has `--help`.
Data commands accept `--json` (one JSON document on stdout). Errors print one red `error: …`
line on stderr and exit 1 (usage errors exit 2).

Start-up: `main` finds the command's name in argv and builds an app holding only that command
(its module alone is imported, and Typer converts one command's signature instead of the
whole tree's ~130); help, completion and unknown names get the full tree (`app`, built on
first use). Both are built from `COMMANDS`, so a command behaves the same either way.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import sys
from functools import cache
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    import typer

__all__ = ["COMMANDS", "QUICK_EXIT", "app", "full_app", "main", "single_app"]

# name → (module, attribute, is a group), in the order `--help` lists them.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "init": ("civicshield.cli.db", "init", False),
    "serve": ("civicshield.cli.serve", "serve", False),
    "demo": ("civicshield.cli.demo", "demo", False),
    "db": ("civicshield.cli.db", "db_app", True),
    "user": ("civicshield.cli.users", "users_app", True),
    "token": ("civicshield.cli.tokens", "tokens_app", True),
    "audit": ("civicshield.cli.audit", "audit_app", True),
    "worker": ("civicshield.cli.worker", "worker_app", True),
    "jobs": ("civicshield.cli.jobs", "jobs_app", True),
    "mail": ("civicshield.cli.mail", "mail_app", True),
    "rules": ("civicshield.cli.rules", "rules_app", True),
    "segmentation": ("civicshield.cli.segmentation", "segmentation_app", True),
    "assets": ("civicshield.cli.assets", "assets_app", True),
    "alerts": ("civicshield.cli.alerts", "alerts_app", True),
    "incidents": ("civicshield.cli.incidents", "incidents_app", True),
    "intel": ("civicshield.cli.intel", "intel_app", True),
    "vulns": ("civicshield.cli.vulns", "vulns_app", True),
    "risk": ("civicshield.cli.risk", "risk_app", True),
    "detect": ("civicshield.cli.detect", "detect", False),
    "hunt": ("civicshield.cli.hunt", "hunt", False),
    "ingest": ("civicshield.cli.ingest", "ingest", False),
    "quarantine": ("civicshield.cli.ingest", "quarantine_app", True),
    "events": ("civicshield.cli.stream", "events_app", True),
    "version": ("civicshield.cli.root", "version", False),
}


def _load(name: str) -> Any:
    module, attribute, _ = COMMANDS[name]
    return getattr(importlib.import_module(module), attribute)


def _add(target: typer.Typer, name: str) -> None:
    if COMMANDS[name][2]:
        target.add_typer(_load(name), name=name)
    else:
        target.command(name)(_load(name))


@cache
def full_app() -> typer.Typer:
    """The whole command tree."""
    from civicshield.cli.root import new_app

    built = new_app()
    for name in COMMANDS:
        _add(built, name)
    return built


def single_app(name: str) -> typer.Typer:
    """The root options and the one command `name` (a key of `COMMANDS`)."""
    from civicshield.cli.root import new_app

    built = new_app()
    _add(built, name)
    return built


def command_name(args: list[str]) -> str | None:
    """The command named in `args` (argv without the program) when it is one of `COMMANDS`
    and only root options come before it; None otherwise (help, a typo, no command)."""
    from civicshield.cli.root import ROOT_FLAGS, ROOT_VALUE_OPTIONS

    at = 0
    while at < len(args):
        arg = args[at]
        if arg in ROOT_VALUE_OPTIONS:
            at += 2
        elif arg in ROOT_FLAGS or arg.startswith(tuple(f"{o}=" for o in ROOT_VALUE_OPTIONS)):
            at += 1
        else:
            return arg if arg in COMMANDS else None
    return None


def main() -> None:
    """Entry point of the `civicshield` script and `python -m civicshield`."""
    completing = any(k.startswith("_CIVICSHIELD_COMPLETE") for k in os.environ)
    name = None if completing else command_name(sys.argv[1:])
    # Importing the command allocates ~10^5 long-lived objects and no garbage worth a search:
    # the cyclic collector would re-scan them all a few times (~30% of the import time). After
    # it, they are frozen out of later collections.
    gc.disable()
    try:
        app = full_app() if name is None else single_app(name)
    finally:
        gc.enable()
        gc.freeze()
    try:
        app(prog_name="civicshield")
    except SystemExit as exc:
        if name in QUICK_EXIT and (exc.code is None or isinstance(exc.code, int)):
            _exit_now(exc.code or 0)
        raise


# One-shot commands over files that end without the interpreter's teardown: deallocating the
# ~10^5 objects of a loaded rule set takes ~60 ms and does nothing useful. By then the command
# has closed what it opened (its output file, the database) and its context is closed.
QUICK_EXIT = frozenset({"detect"})


def _exit_now(code: int) -> NoReturn:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def __getattr__(attribute: str) -> Any:
    if attribute == "app":  # the full tree, built when first asked for (tests, docs)
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {attribute!r}")
