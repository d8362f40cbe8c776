"""Shared CLI plumbing: per-run state (settings and runtime loading), output helpers and the
one place where errors become a red `error: …` line and an exit code.

Errors: a `CivicShieldError` (bad configuration, a record that does not exist, a weak
password, …), a database error or any unexpected exception is caught by `CliGroup.invoke` and
printed as one line on stderr, exit code 1; usage errors (unknown option, missing argument)
keep Typer's exit code 2. `--verbose` adds the traceback of unexpected errors.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from civicshield.core import Actor, CivicShieldError, ConfigError, Invalid, Settings, load_settings
from civicshield.core.logging import configure_logging

if TYPE_CHECKING:
    from civicshield.runtime import Runtime

__all__ = [
    "CliGroup",
    "CliState",
    "JsonOption",
    "cli_actor",
    "console",
    "emit_json",
    "fail",
    "fmt_time",
    "lazy_module",
    "model",
    "parse_choice",
    "print_table",
    "safe_url",
    "state",
    "success",
]

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
PIPE_WIDTH = 160

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON document to stdout instead of a table.")
]


# --- output ---------------------------------------------------------------------------------


def console(*, stderr: bool = False) -> Console:
    """A console bound to the current stdout/stderr (made per call: tests swap the streams).
    Markup is off: values print literally; style with `style=` or `rich.text.Text`."""
    stream = sys.stderr if stderr else sys.stdout
    # Piped output (not a terminal) gets wide tables instead of Rich's 80 columns.
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        markup=False,
        width=PIPE_WIDTH if wide else None,
    )


def success(message: str) -> None:
    console().print(Text(message, style="green"))


def fail(message: str, *, code: int = 1) -> NoReturn:
    """Print `error: message` in red on stderr and exit with `code`."""
    console(stderr=True).print(Text(f"error: {message}", style="bold red"))
    raise typer.Exit(code)


def emit_json(data: Any) -> None:
    """Print one JSON document (pydantic models, datetimes and enums included) to stdout."""
    typer.echo(json.dumps(to_jsonable_python(data), indent=2, ensure_ascii=False))


def fmt_time(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _cell(value: object) -> Text:
    if value is None or value == "":
        return Text("—", style="dim")
    if isinstance(value, Text):
        return value
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, datetime):
        return Text(fmt_time(value))
    if isinstance(value, list | tuple | set | frozenset):
        return Text(", ".join(str(v) for v in value) or "—")
    return Text(str(value))


def print_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """A Rich table; cells are shown literally (never parsed as Rich markup)."""
    table = Table(title=title, caption=caption, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console().print(table)


# --- small helpers --------------------------------------------------------------------------


def cli_actor() -> Actor:
    """Who the audit log names for changes made from the command line."""
    return Actor(kind="cli", name=(os.environ.get("USER") or "root")[:64])


def parse_choice(parser: Callable[[str], T], value: str) -> T:
    """Run a parser such as `Role.parse`, turning its ValueError into a clear error."""
    try:
        return parser(value)
    except ValueError as exc:
        raise Invalid(str(exc)) from None


def model(cls: type[M], **data: Any) -> M:
    """Build a pydantic model, turning validation errors into one readable `Invalid`."""
    try:
        return cls(**data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise Invalid("; ".join(problems)) from None


def safe_url(url: str) -> str:
    """A database URL with its password hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


# --- per-run state --------------------------------------------------------------------------


@dataclass
class CliState:
    """Global options of this run; settings and runtimes are built lazily, on first need, so
    `--help`, `version` and `db check` work without any configuration."""

    data_dir: Path | None = None
    database_url: str | None = None
    verbose: bool = False
    _runtimes: list[Runtime] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {}
        if self.data_dir is not None:
            values["data_dir"] = self.data_dir
        if self.database_url is not None:
            values["database_url"] = self.database_url
        values.update({k: v for k, v in overrides.items() if v is not None})
        return load_settings(**values)

    def runtime(
        self, settings: Settings | None = None, *, migrated: bool = True, connect: bool = True
    ) -> Runtime:
        """A runtime whose database answers (`connect`) and is at the head revision
        (`migrated`); closed when the command ends."""
        from civicshield.runtime import build_runtime

        settings = settings or self.settings()
        url = settings.resolved_database_url
        if migrated:
            _require_database_file(url)
        rt = build_runtime(settings)
        self._runtimes.append(rt)
        if connect or migrated:
            rt.db.check_connection()
        if migrated:
            require_migrated(url)
        return rt

    def configure_service_logging(self, settings: Settings) -> None:
        """Long-running commands (serve, worker) log at the configured level."""
        level = "DEBUG" if self.verbose else settings.log_level
        configure_logging(level, json_output=settings.log_json)

    def close(self) -> None:
        while self._runtimes:
            self._runtimes.pop().close()


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:  # a sub-command invoked without the root callback (not in normal use)
        found = ctx.ensure_object(CliState)
    return found


def _require_database_file(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "")
        if not path.exists():
            raise ConfigError(
                f"no database at {path}: run `civicshield init` first "
                "(or point --data-dir / CIVICSHIELD_DATABASE_URL at an existing one)"
            )


def require_migrated(url: str) -> None:
    from civicshield.migrations import current_revision, head_revision

    current, head = current_revision(url), head_revision()
    if current != head:
        at = f"revision {current}" if current else "no revision (empty database)"
        raise ConfigError(
            f"the database {safe_url(url)} is at {at} but this CivicShield needs {head}: "
            "run `civicshield init` (or `civicshield db upgrade`)"
        )


# --- the error boundary ---------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _is_database_error(exc: BaseException) -> bool:
    """A SQLAlchemy error; SQLAlchemy is imported lazily, so if it is not loaded yet, nothing
    raised one."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.SQLAlchemyError)


class CliGroup(TyperGroup):
    """The root command group: turns every error raised below it into one red line."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exit codes, Ctrl-C and usage errors keep Typer's handling
        except CivicShieldError as exc:
            fail(exc.detail)
        except Exception as exc:
            if _is_database_error(exc):
                fail(f"database error: {_first_line(exc)}")
            verbose = isinstance(ctx.obj, CliState) and ctx.obj.verbose
            if verbose:
                err = console(stderr=True)
                err.print(Text("".join(traceback.format_exception(exc)).rstrip(), style="dim"))
            hint = "" if verbose else " (run with --verbose for the traceback)"
            fail(f"unexpected {type(exc).__name__}: {_first_line(exc)}{hint}")


class _LazyModule:
    """A module imported on first attribute access: the CLI starts without the database layer
    (SQLAlchemy) unless a command needs it (`civicshield detect` must start fast)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


def lazy_module(name: str) -> Any:
    return _LazyModule(name)
