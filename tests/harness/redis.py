"""A throw-away Redis server for integration tests, plus a minimal RESP client.

The server is ``redis-server`` with persistence off, bound to 127.0.0.1 on a free port, with
its working directory in a fresh temporary directory. Readiness is checked with PING over a
raw socket, so the tests need no Redis client package.
"""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, TypeAlias

from .ports import free_port

__all__ = ["RedisError", "RedisServer", "RespValue", "find_redis_server", "resp_command"]

RespValue: TypeAlias = "str | int | bytes | list[RespValue] | None"

_INSTALL_HINT = "install Redis (Debian/Ubuntu: `apt-get install redis-server`)"
_PORT_IN_USE = ("Address already in use", "Could not create server TCP listening socket")
_START_ATTEMPTS = 3


class RedisError(RuntimeError):
    """An error reply (``-ERR …``) from the server."""


def find_redis_server() -> Path:
    """Path of ``redis-server`` (PATH, then /usr/bin); RuntimeError naming what to install."""
    found = shutil.which("redis-server") or shutil.which("/usr/bin/redis-server")
    if found is None:
        raise RuntimeError(f"redis-server not found on PATH or in /usr/bin: {_INSTALL_HINT}")
    return Path(found)


def _encode(args: tuple[str | bytes | int, ...]) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_reply(stream: BinaryIO) -> RespValue:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("connection closed by the Redis server")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        raise RedisError(body.decode())
    if kind == b":":
        return int(body)
    if kind == b"$":
        length = int(body)
        if length < 0:
            return None
        data = stream.read(length + 2)
        return data[:-2]
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [_read_reply(stream) for _ in range(count)]
    raise ConnectionError(f"unexpected RESP reply: {line!r}")


def resp_command(host: str, port: int, *args: str | bytes | int, timeout: float = 5.0) -> RespValue:
    """Send one command on a fresh connection and return the decoded reply.

    Simple strings come back as ``str``, bulk strings as ``bytes``, integers as ``int``,
    nil as ``None`` and arrays as lists; an error reply raises :class:`RedisError`.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(_encode(args))
        with sock.makefile("rb") as stream:
            return _read_reply(stream)


class RedisServer:
    """One ``redis-server`` on a free loopback port; ``start()``/``stop()`` or a ``with`` block.

    ``stop()`` is idempotent and registered with :mod:`atexit` while the server runs.
    """

    def __init__(self, *, binary: Path | None = None, startup_timeout: float = 20.0) -> None:
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._directory: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._port is None or self._process is None:
            raise RuntimeError("RedisServer is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    @property
    def directory(self) -> Path | None:
        return self._directory

    @property
    def log_path(self) -> Path:
        if self._directory is None:
            raise RuntimeError("RedisServer has no directory; call start() first")
        return self._directory / "redis.log"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def execute(self, *args: str | bytes | int) -> RespValue:
        """Run one command on this server, e.g. ``execute("SET", "k", "v")``."""
        return resp_command(self.host, self.port, *args)

    def start(self) -> RedisServer:
        if self._process is not None:
            return self
        binary = self._binary = self._binary or find_redis_server()
        if not binary.is_file():
            raise RuntimeError(f"redis-server binary {binary} does not exist: {_INSTALL_HINT}")
        self._directory = Path(tempfile.mkdtemp(prefix="civicshield-redis-"))
        atexit.register(self.stop)
        try:
            for attempt in range(1, _START_ATTEMPTS + 1):
                log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
                if self._try_start(binary, free_port()):
                    return self
                log = self._log_tail(log_start)
                if attempt == _START_ATTEMPTS or not any(text in log for text in _PORT_IN_USE):
                    raise RuntimeError(
                        f"redis-server failed to start; log {self.log_path} (tail):\n{log}"
                    )
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        atexit.unregister(self.stop)
        self._terminate()
        directory, self._directory = self._directory, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _try_start(self, binary: Path, port: int) -> bool:
        """Start on ``port``; True once PING answers, False if the process died (log has why)."""
        assert self._directory is not None
        argv = [
            str(binary),
            "--save",
            "",
            "--appendonly",
            "no",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self._directory),
            "--daemonize",
            "no",
        ]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        self._port = port
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._terminate()
                return False
            try:
                if resp_command(self.host, port, "PING", timeout=1.0) == "PONG":
                    return True
            except (OSError, RedisError):  # not listening yet, or still loading
                pass
            time.sleep(0.02)
        self._terminate()
        raise RuntimeError(
            f"redis-server did not answer PING on 127.0.0.1:{port} within "
            f"{self._startup_timeout}s; log {self.log_path} (tail):\n{self._log_tail()}"
        )

    def _terminate(self) -> None:
        process, self._process = self._process, None
        self._port = None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()

    def _log_tail(self, start: int = 0, lines: int = 40) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(start)
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
