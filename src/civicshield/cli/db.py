"""`civicshield init` and `civicshield db …`: create the data directory, the secret key and the
schema; show, check and (for developers) generate migrations."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    model,
    safe_url,
    state,
    success,
)
from civicshield.core import Role

__all__ = ["db_app", "init"]

db_app = typer.Typer(
    help="Database schema: upgrade it, show its revision, check models against migrations.",
    no_args_is_help=True,
)


def _sqlite_file_missing(url: str) -> bool:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return (
        parsed.get_backend_name() == "sqlite"
        and parsed.database not in (None, "", ":memory:")
        and not Path(parsed.database or "").exists()
    )


def init(
    ctx: typer.Context,
    admin_password: Annotated[
        str | None,
        typer.Option(
            "--admin-password",
            envvar="CIVICSHIELD_ADMIN_PASSWORD",
            show_envvar=True,
            help="Password for the first administrator (default: a generated one, shown once).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Set up: data directory, secret key, evidence key, database schema, first administrator.

    Creates the administrator `admin` (password generated and shown once, or chosen with
    --admin-password) only when there are no users yet. Safe to run again."""
    from civicshield import accounts, migrations
    from civicshield.accounts import UserCreate

    st = state(ctx)
    settings = st.settings()
    data_dir = settings.data_dir.resolve()
    dir_created = not data_dir.exists()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    if settings.secret_key is not None:
        key_source = "taken from CIVICSHIELD_SECRET_KEY"
    else:
        secret_existed = (data_dir / "secret.key").exists()
        path = settings.ensure_secret_file()
        mode = path.stat().st_mode & 0o777
        key_source = (
            f"{path.resolve()} ({'kept' if secret_existed else 'created'}, mode {mode:04o})"
        )
        if mode & 0o077:
            console(stderr=True).print(
                f"warning: {path} is readable by other users; run `chmod 600 {path}`",
                style="yellow",
            )

    from civicshield.incidents.evidence import ensure_key_file

    if settings.evidence_key is not None:
        evidence_key = "taken from CIVICSHIELD_EVIDENCE_KEY"
    else:
        ev_path, ev_created = ensure_key_file(settings)
        ev_mode = ev_path.stat().st_mode & 0o777
        evidence_key = (
            f"{ev_path.resolve()} ({'created' if ev_created else 'kept'}, mode {ev_mode:04o})"
        )
        if ev_mode & 0o077:
            console(stderr=True).print(
                f"warning: {ev_path} is readable by other users; run `chmod 600 {ev_path}`",
                style="yellow",
            )

    url = settings.resolved_database_url
    rt = st.runtime(settings, migrated=False)
    before = migrations.current_revision(url)
    migrations.upgrade(url)
    after = migrations.current_revision(url)

    generated: str | None = None
    with rt.session() as session:
        if accounts.count_users(session) == 0:
            password = admin_password or accounts.generate_password("admin")
            generated = None if admin_password else password
            accounts.create_user(
                session,
                model(
                    UserCreate,
                    username="admin",
                    password=password,
                    role=Role.ADMIN,
                    display_name="Administrator",
                    language=settings.default_language,
                    timezone=settings.default_timezone,
                ),
                actor=cli_actor(),
                clock=rt.clock,
                config=rt.accounts,
            )
            admin_created = True
        else:
            admin_created = False

    if json_output:
        emit_json(
            {
                "data_dir": str(data_dir),
                "data_dir_created": dir_created,
                "secret_key": key_source,
                "evidence_key": evidence_key,
                "database": safe_url(url),
                "revision_before": before,
                "revision": after,
                "admin_created": admin_created,
                "admin_username": "admin" if admin_created else None,
                "admin_password": generated,
            }
        )
        return
    out = console()
    out.print(f"Data directory: {data_dir} ({'created' if dir_created else 'exists'})")
    out.print(f"Secret key:     {key_source}")
    out.print(f"Evidence key:   {evidence_key}")
    change = "already at head" if before == after else f"upgraded {before or 'empty'} → {after}"
    out.print(f"Database:       {safe_url(url)} ({change})")
    if not admin_created:
        out.print("Users:          users exist already; no administrator created")
    elif generated:
        out.print("Administrator:  created user admin; its password, shown only once:")
        out.print(f"\n    {generated}\n", style="bold")
    else:
        out.print("Administrator:  created user admin with the chosen password")
    success("CivicShield is initialised. Next: `civicshield serve` (or `civicshield demo`).")


@db_app.command("upgrade")
def upgrade(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Migrate the database to the newest revision."""
    from civicshield import migrations

    rt = state(ctx).runtime(migrated=False)
    url = rt.settings.resolved_database_url
    before = migrations.current_revision(url)
    migrations.upgrade(url)
    after = migrations.current_revision(url)
    if json_output:
        emit_json({"database": safe_url(url), "revision_before": before, "revision": after})
    elif before == after:
        success(f"{safe_url(url)} is already at the head revision {after}")
    else:
        success(f"{safe_url(url)} upgraded from {before or 'an empty database'} to {after}")


@db_app.command("current")
def current(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the database's revision and the newest one this CivicShield knows."""
    from civicshield import migrations

    settings = state(ctx).settings()
    url = settings.resolved_database_url
    exists = not _sqlite_file_missing(url)
    revision = None
    if exists:
        state(ctx).runtime(settings, migrated=False)  # a clear error if it cannot be reached
        revision = migrations.current_revision(url)
    head = migrations.head_revision()
    data: dict[str, Any] = {
        "database": safe_url(url),
        "exists": exists,
        "current": revision,
        "head": head,
        "up_to_date": revision == head,
    }
    if json_output:
        emit_json(data)
        return
    out = console()
    out.print(f"database: {data['database']}" + ("" if exists else " (does not exist yet)"))
    out.print(f"current:  {revision or '—'}")
    out.print(f"head:     {head}")
    if revision == head:
        success("up to date")
    else:
        console().print("behind: run `civicshield db upgrade`", style="yellow")


@db_app.command("check")
def check() -> None:
    """Check that the migrations produce exactly the models' schema.

    Migrates a scratch SQLite database in a temporary directory (needs no data directory or
    configuration); exits 1 with the differences when they disagree."""
    from civicshield import migrations

    with tempfile.TemporaryDirectory(prefix="civicshield-db-check-") as tmp:
        diff = migrations.check_models_match(f"sqlite:///{Path(tmp) / 'scratch.db'}")
    if diff is not None:
        fail(
            f"models and migrations disagree (write a migration: `civicshield db revision -m "
            f"MESSAGE`):\n{diff}"
        )
    success(f"models and migrations agree (head revision {migrations.head_revision()})")


@db_app.command("revision")
def revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the migration does.")],
    empty: Annotated[
        bool, typer.Option("--empty", help="Write a revision even when no model changed.")
    ] = False,
) -> None:
    """Developer helper: autogenerate a migration from the models.

    Compares the models with a scratch SQLite database migrated to head and writes the new
    revision into src/civicshield/migrations/versions."""
    from civicshield import migrations

    versions = Path(migrations.__file__).resolve().parent / "versions"
    before = set(versions.glob("*.py"))
    with tempfile.TemporaryDirectory(prefix="civicshield-db-revision-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        if migrations.check_models_match(url) is None and not empty:
            fail(
                "the models match the migrations; nothing to generate (use --empty for a "
                "hand-written migration)"
            )
        migrations.make_revision(url, message)
    for path in sorted(set(versions.glob("*.py")) - before):
        success(f"wrote {path}: review it, `ruff format` it, then run `civicshield db check`")
