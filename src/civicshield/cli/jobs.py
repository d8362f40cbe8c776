"""`civicshield jobs …`: list, queue, inspect, retry and cancel background jobs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fmt_time,
    lazy_module,
    parse_choice,
    print_table,
    state,
    success,
)
from civicshield.cli.worker import print_jobs
from civicshield.core import Invalid

if TYPE_CHECKING:
    from civicshield.jobs import JobStatus

__all__ = ["jobs_app"]

jobs_app = typer.Typer(
    help="Background jobs: list, queue, show (with their log), retry, cancel.",
    no_args_is_help=True,
)

# the values of `JobStatus`, written out so that `civicshield --help` imports no database code
# (a test keeps them equal)
STATUSES = "queued, running, succeeded, failed, cancelled"
jobs = lazy_module("civicshield.jobs")


def _status(value: str) -> JobStatus:
    try:
        return jobs.JobStatus(value.strip().lower())  # type: ignore[no-any-return]
    except ValueError:
        raise ValueError(f"{value!r} is not a valid job status (use one of: {STATUSES})") from None


def parse_args(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs; a value that is valid JSON (number, list, …) is decoded."""
    args: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise Invalid(f"--arg {pair!r} is not key=value")
        try:
            args[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            args[key.strip()] = raw
    return args


@jobs_app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help=f"Only this status ({STATUSES}).")] = None,
    name: Annotated[str | None, typer.Option(help="Only jobs of this name.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000, help="Newest N jobs.")] = 50,
    json_output: JsonOption = False,
) -> None:
    """List jobs, newest first."""
    status_value = parse_choice(_status, status) if status else None
    rt = state(ctx).runtime()
    with rt.session() as session:
        page = jobs.list_jobs(session, status=status_value, name=name, limit=limit)
    if json_output:
        emit_json(page)
        return
    print_jobs(page.items, caption=f"{len(page.items)} of {page.total} job(s)")


@jobs_app.command("enqueue")
def enqueue(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The job's name, e.g. audit.verify.")],
    arg: Annotated[
        list[str] | None,
        typer.Option("--arg", "-a", help="An argument as key=value (repeat); JSON values allowed."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Queue a job now; a running worker (or `worker run --once`) picks it up."""
    args = parse_args(arg or [])
    rt = state(ctx).runtime()
    with rt.session() as session:
        job = jobs.enqueue(
            session,
            name,
            registry=rt.jobs,
            clock=rt.clock,
            args=args,
            requested_by=cli_actor().label,
        )
    if json_output:
        emit_json(job)
        return
    success(f"queued job {job.id} ({job.name})")


@jobs_app.command("show")
def show(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="ID", help="The job's ID.")],
    json_output: JsonOption = False,
) -> None:
    """Show one job with its stored log lines."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        job = jobs.get_job(session, job_id)
        lines = jobs.job_log(session, job_id)
    if json_output:
        emit_json({"job": job, "log": lines})
        return
    out = console()
    fields: list[tuple[str, object]] = [
        ("Job", f"{job.id} {job.name}"),
        ("Status", job.status.value),
        ("Attempts", f"{job.attempts}/{job.max_attempts}"),
        ("Arguments", json.dumps(job.args)),
        ("Requested by", job.requested_by),
        ("Created", fmt_time(job.created_at)),
        ("Run after", fmt_time(job.run_after)),
        ("Started", fmt_time(job.started_at)),
        ("Finished", fmt_time(job.finished_at)),
        ("Worker", job.worker or "—"),
        ("Error", job.error or "—"),
        ("Result", json.dumps(job.result, default=str) if job.result is not None else "—"),
    ]
    for label, value in fields:
        out.print(f"{label + ':':<14}{value}")
    if lines:
        print_table(
            ("At (UTC)", "Level", "Message"),
            [(line.at, line.level, line.message) for line in lines],
            title="Log",
        )
    else:
        out.print("(no log lines)", style="dim")


@jobs_app.command("retry")
def retry(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="ID", help="A failed or cancelled job.")],
) -> None:
    """Queue a failed or cancelled job again."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        job = jobs.retry_job(session, job_id, clock=rt.clock)
    success(f"job {job.id} ({job.name}) queued again")


@jobs_app.command("cancel")
def cancel(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="ID", help="A queued job.")],
) -> None:
    """Cancel a queued job."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        job = jobs.cancel_job(session, job_id, clock=rt.clock)
    success(f"job {job.id} ({job.name}) cancelled")
