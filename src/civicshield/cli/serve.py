"""`civicshield serve`: the web UI and REST API under uvicorn (with the worker in-process)."""

from __future__ import annotations

import errno
import gc
import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli._common import console, fail, state
from civicshield.core import Settings

__all__ = ["listen_url", "serve"]


def listen_url(settings: Settings) -> str:
    """Where the server can be reached: `base_url` when set, else http://host:port/."""
    if settings.base_url:
        return settings.base_url.rstrip("/") + "/"
    host = settings.host
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - describing, not binding
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}/"


def _check_port_free(host: str, port: int) -> None:
    """Fail early with a clear message instead of uvicorn's log line when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            fail(f"cannot listen on {host}:{port}: {reason} (choose another with --port)")


def _run_uvicorn(app: Any, settings: Settings, log_level: str) -> None:
    import uvicorn

    # A server allocates many short-lived objects per request: collect the young generation
    # less often than Python's default (700) so collections cost less per request.
    gc.set_threshold(10_000, 20, 20)
    if settings.server_processes > 1:
        # Several processes: each builds its own app from the environment (the factory), so
        # the settings this command resolved are handed down as CIVICSHIELD_* variables.
        for name in ("data_dir", "database_url", "host", "port", "worker_in_process"):
            value = getattr(settings, name)
            if value is not None:
                os.environ[f"CIVICSHIELD_{name.upper()}"] = str(value)
        uvicorn.run(
            "civicshield.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.server_processes,
            log_level=log_level.lower(),
            server_header=False,
        )
        return
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        server_header=False,
    )
    uvicorn.Server(config).run()


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default: CIVICSHIELD_HOST).")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to listen on (default: CIVICSHIELD_PORT)."),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Data directory (overrides the global one).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Server processes (default: CIVICSHIELD_WEB_WORKERS, else one per CPU core, "
            "at most 4).",
        ),
    ] = None,
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker",
            help="Do not run background jobs in this process "
            "(run `civicshield worker run` separately).",
        ),
    ] = False,
) -> None:
    """Serve the web UI and the REST API (uvicorn).

    Runs the background worker in-process unless --no-worker (or
    CIVICSHIELD_WORKER_IN_PROCESS=false). Refuses to start on a database that is not
    migrated to the newest revision."""
    st = state(ctx)
    overrides: dict[str, Any] = {
        "host": host,
        "port": port,
        "data_dir": data_dir,
        "web_workers": workers,
    }
    if no_worker:
        overrides["worker_in_process"] = False
    settings = st.settings(**overrides)
    settings.secret()  # a clear error now rather than on the first request
    st.runtime(settings)  # the database answers and is migrated to head
    st.close()
    _check_port_free(settings.host, settings.port)

    from civicshield.app import create_app

    app = create_app(settings)
    st.configure_service_logging(settings)
    worker = "with the worker in-process" if settings.worker_in_process else "without a worker"
    out = console()
    out.print(f"CivicShield for {settings.city_name} ({worker}); Ctrl-C stops it.")
    out.print(f"Open {listen_url(settings)}", style="bold green")
    collector = _start_collector(settings)
    try:
        _run_uvicorn(app, settings, "debug" if st.verbose else settings.log_level)
    finally:
        if collector is not None:
            collector.stop()


def _start_collector(settings: Settings) -> Any:
    """The syslog listener and file tailers, when the settings name any: run in this process
    (uvicorn's supervisor when there are several server processes), so one process binds the
    ports and follows the files."""
    from civicshield.runtime import build_runtime
    from civicshield.telemetry import Collector

    rt = build_runtime(settings)
    collector = Collector.from_settings(rt.session, settings, registry=rt.jobs, clock=rt.clock)
    if collector is None:
        rt.close()
        return None
    collector.start()
    status = collector.status()
    ports = (status["syslog"] or {}).get("ports", {})
    tails = ", ".join(t["format"] for t in status["tails"]) or "none"
    console().print(f"Collecting: syslog {ports or 'off'}; tailing {tails}")
    return collector
