"""`civicshield worker run`: queue due schedules and run background jobs; `worker detect`:
consume the Redis streams of the scale-out mode."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    console,
    emit_json,
    fail,
    print_table,
    state,
    success,
)

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

    banner = f"polling every {settings.worker_poll_seconds:g}s"
    _run_until_signalled(worker.name, worker.stop_event, worker.run_forever, banner)


@worker_app.command("detect")
def detect(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option(help="Consumer name in the group (default: <host>-<pid>); unique per worker."),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="One pass over the streams, print it and exit.")
    ] = False,
    block_ms: Annotated[
        int, typer.Option(min=0, help="Milliseconds one read waits for new entries.")
    ] = 2000,
    json_output: JsonOption = False,
) -> None:
    """Detect over the Redis streams (CIVICSHIELD_REDIS_URL) until SIGINT/SIGTERM.

    Run any number of these, on one machine or many: they share the work through one consumer
    group, and entries a killed worker held are reclaimed by the others."""
    from civicshield.telemetry import StreamWorker

    st = state(ctx)
    settings = st.settings()
    if not settings.redis_url:
        fail(
            "CIVICSHIELD_REDIS_URL is not set: `worker detect` reads the Redis streams of the "
            "scale-out mode; without Redis, `worker run` does detection (embedded mode)"
        )
    rt = st.runtime(settings)
    worker = StreamWorker(rt.session, settings, clock=rt.clock, name=name, block_ms=block_ms)
    if once:
        import redis

        try:
            report = worker.tick()
        except redis.RedisError as exc:
            fail(f"Redis at CIVICSHIELD_REDIS_URL does not answer: {exc}")
        if json_output:
            emit_json({"worker": worker.name, **report.to_dict()})
        else:
            success(
                f"{report.entries} entries ({report.events} events) processed, "
                f"{report.claimed} reclaimed, {report.quarantined} quarantined, "
                f"{report.failed} left pending by {worker.name}"
            )
        return

    st.configure_service_logging(settings)

    banner = f"reading group {settings.stream_group!r}"
    _run_until_signalled(worker.name, worker.stop_event, worker.run_forever, banner)


def _run_until_signalled(
    name: str,
    stop_event: threading.Event,
    run_forever: Callable[[], object],
    banner: str,
) -> None:
    """Run a worker loop until SIGINT/SIGTERM sets its stop event (the work in hand finishes)."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        console(stderr=True).print(f"received {signal.Signals(signum).name}, stopping…")
        stop_event.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, stop)
    console(stderr=True).print(f"worker {name} {banner}; Ctrl-C stops it")
    try:
        run_forever()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    success("worker stopped")
