"""`civicshield worker run`: queue due schedules and run background jobs."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import JsonOption, console, emit_json, print_table, state, success

if TYPE_CHECKING:
    from civicshield.jobs import JobRead

__all__ = ["print_jobs", "worker_app"]

worker_app = typer.Typer(help="The background job worker.", no_args_is_help=True)


def print_jobs(jobs: list[JobRead], *, caption: str | None = None) -> None:
    rows = [
        (
            j.id,
            j.name,
            j.status.value,
            f"{j.attempts}/{j.max_attempts}",
            j.run_after,
            j.finished_at,
            j.requested_by,
            j.error,
        )
        for j in jobs
    ]
    print_table(
        ("ID", "Job", "Status", "Attempts", "Run after", "Finished", "Requested by", "Error"),
        rows,
        caption=caption,
    )


@worker_app.command("run")
def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due now, print it and exit.")
    ] = False,
    poll: Annotated[
        float | None,
        typer.Option(
            min=0.1, help="Seconds between polls (default: CIVICSHIELD_WORKER_POLL_SECONDS)."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Run background jobs until SIGINT/SIGTERM (or one pass with --once).

    Several workers may run at once, on one machine or many: each job runs once per attempt."""
    from civicshield.worker import Worker

    st = state(ctx)
    settings = st.settings(worker_poll_seconds=poll)
    worker = Worker(st.runtime(settings))
    if once:
        ran = worker.tick()
        if json_output:
            emit_json({"worker": worker.name, "jobs": ran})
        elif ran:
            print_jobs(ran, caption=f"{len(ran)} job run(s) by {worker.name}")
        else:
            success("no job was due")
        return

    st.configure_service_logging(settings)

    def stop(signum: int, _frame: FrameType | None) -> None:
        console(stderr=True).print(f"received {signal.Signals(signum).name}, stopping…")
        worker.stop_event.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, stop)
    console(stderr=True).print(
        f"worker {worker.name} polling every {settings.worker_poll_seconds:g}s; Ctrl-C stops it"
    )
    try:
        worker.run_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    success("worker stopped")
