"""Run an ASGI app with uvicorn in a background thread, for browser and end-to-end tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Literal

import uvicorn

__all__ = ["ASGIApp", "LiveServer"]

ASGIApp = Callable[..., Awaitable[Any]]


class LiveServer:
    """``app`` served by uvicorn on 127.0.0.1 at a free port, in a daemon thread.

    The listening socket is bound here before uvicorn starts (so no other process can take the
    port in between) and handed to ``Server.run(sockets=…)``. ``log_config=None`` keeps
    uvicorn from reconfiguring logging, so its records reach pytest's log capture.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        lifespan: Literal["auto", "on", "off"] = "on",
        startup_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.host = host
        self.lifespan = lifespan
        self.startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("LiveServer is not running; call start() or use `with`")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41234``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> LiveServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=int(sock.getsockname()[1]),
            log_level="warning",
            log_config=None,
            lifespan=self.lifespan,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True
        )
        self._socket, self._server, self._thread = sock, server, thread
        thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "uvicorn did not start (lifespan startup failed or timed out after "
                    f"{self.startup_timeout}s); see the captured log for the reason"
                )
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit (runs lifespan shutdown), join the thread. Idempotent."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is not None:
            server.should_exit = True
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                if server is not None:
                    server.force_exit = True
                thread.join(timeout)
        if sock is not None:
            sock.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
