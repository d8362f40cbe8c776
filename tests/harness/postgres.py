"""A throw-away PostgreSQL server for integration tests.

The server runs from the distribution's binaries (``/usr/lib/postgresql/<version>/bin`` on
Debian) in a fresh directory made with :func:`tempfile.mkdtemp` (deliberately outside pytest's
``0700`` temporary tree, which the ``postgres`` user could not enter). PostgreSQL refuses to
run as root, so when the tests run as root every server command goes through
``runuser -u postgres --``. Durability is switched off: the data dies with the test session.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from .ports import free_port

__all__ = ["PostgresServer", "find_postgres_bin_dir"]

_SUPERUSER = "postgres"
_OS_USER = "postgres"
_DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
_INSTALL_HINT = (
    "install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`, which provides "
    "/usr/lib/postgresql/<version>/bin/initdb and pg_ctl), or put initdb and pg_ctl on PATH"
)
_DATABASE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_PORT_IN_USE = ("could not bind", "Address already in use")
_START_ATTEMPTS = 3


def _version_key(bin_dir: str) -> tuple[int, ...]:
    version = Path(bin_dir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_postgres_bin_dir() -> Path:
    """Directory holding ``initdb`` and ``pg_ctl``: the newest Debian version dir, else PATH.

    Raises :class:`RuntimeError` naming what to install when no server binaries exist.
    """
    for candidate in sorted(glob.glob(_DEBIAN_BIN_GLOB), key=_version_key, reverse=True):
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl and Path(initdb).parent == Path(pg_ctl).parent:
        return Path(initdb).parent
    raise RuntimeError(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {_INSTALL_HINT}")


def _pick_locale() -> str:
    """``C.UTF-8`` where the system has it (case folding of non-ASCII text works), else ``C``."""
    locale_bin = shutil.which("locale")
    if locale_bin is None:
        return "C"
    result = subprocess.run([locale_bin, "-a"], capture_output=True, text=True, check=False)
    names = {line.strip().lower() for line in result.stdout.splitlines()}
    return "C.UTF-8" if names & {"c.utf8", "c.utf-8"} else "C"


def _tail(path: Path, start: int = 0, lines: int = 40) -> str:
    """The last ``lines`` lines of the log written after byte offset ``start``."""
    try:
        with path.open("rb") as log:
            log.seek(start)
            text = log.read().decode("utf-8", errors="replace")
    except OSError:
        return f"(no server log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class PostgresServer:
    """One PostgreSQL server on a free loopback port, trust authentication, user ``postgres``.

    Use ``start()``/``stop()`` or ``with PostgresServer() as pg:``. ``stop()`` is idempotent and
    also registered with :mod:`atexit`, so a crashed test session still stops the server.
    """

    def __init__(self, *, bin_dir: Path | None = None, startup_timeout: int = 60) -> None:
        self._bin_dir = bin_dir
        self._startup_timeout = startup_timeout
        self._directory: Path | None = None
        self._port: int | None = None
        self._running = False

    # -- properties -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise RuntimeError("PostgresServer is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``postgres`` database."""
        return self.url_for("postgres")

    @property
    def directory(self) -> Path | None:
        """The server's temporary directory (data dir, socket, log); ``None`` once stopped."""
        return self._directory

    @property
    def data_dir(self) -> Path:
        return self._require_directory() / "data"

    @property
    def log_path(self) -> Path:
        """The server log; its tail is part of every start error."""
        return self._require_directory() / "postgres.log"

    @property
    def is_running(self) -> bool:
        return self._running

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://{_SUPERUSER}@{self.host}:{self.port}/{database}"

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        """initdb a fresh cluster and start it; RuntimeError (with the log tail) on failure."""
        if self._running:
            return self
        bin_dir = self._bin_dir = self._bin_dir or find_postgres_bin_dir()
        missing = [name for name in ("initdb", "pg_ctl") if not (bin_dir / name).is_file()]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} not found in {bin_dir}: {_INSTALL_HINT}")
        as_root = os.geteuid() == 0
        if as_root:
            self._check_root_prerequisites()
        self._directory = Path(tempfile.mkdtemp(prefix="civicshield-pg-"))
        atexit.register(self.stop)
        try:
            if as_root:
                self._chown_to_postgres(self._directory)
            self._initdb(bin_dir)
            self._start_with_retries(bin_dir)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (``pg_ctl stop -m immediate``) and remove its directory. Idempotent."""
        atexit.unregister(self.stop)
        directory, self._directory = self._directory, None
        running, self._running = self._running, False
        if directory is None:
            return
        # A server that failed its start-up wait (or whose start was interrupted) may still
        # be running: its postmaster.pid says so.
        if running or (directory / "data" / "postmaster.pid").exists():
            self._stop_server(directory)
        shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases --------------------------------------------------------------------------

    def create_database(self, name: str) -> str:
        """Create database ``name`` (a plain identifier) and return its SQLAlchemy URL."""
        self._execute_admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_check(name))))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting any sessions still on it."""
        self._execute_admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_check(name)))
        )

    def _execute_admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=_SUPERUSER,
            dbname="postgres",
            autocommit=True,
            connect_timeout=10,
        ) as conn:
            conn.execute(statement)

    # -- internals --------------------------------------------------------------------------

    def _require_directory(self) -> Path:
        if self._directory is None:
            raise RuntimeError("PostgresServer has no directory; call start() first")
        return self._directory

    @staticmethod
    def _check_root_prerequisites() -> None:
        try:
            pwd.getpwnam(_OS_USER)
        except KeyError:
            raise RuntimeError(
                f"running as root but there is no `{_OS_USER}` OS user to run PostgreSQL as; "
                f"{_INSTALL_HINT}"
            ) from None
        if shutil.which("runuser") is None:
            raise RuntimeError("running as root but `runuser` is missing; install util-linux")

    @staticmethod
    def _chown_to_postgres(directory: Path) -> None:
        entry = pwd.getpwnam(_OS_USER)
        for root, dirs, files in os.walk(directory):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in [*dirs, *files]:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)

    @staticmethod
    def _run(argv: list[str], *, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            argv = ["runuser", "-u", _OS_USER, "--", *argv]
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        return subprocess.run(
            argv,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _initdb(self, bin_dir: Path) -> None:
        result = self._run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                _SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                f"--locale={_pick_locale()}",
                "--no-sync",
            ],
            cwd=self._require_directory(),
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )

    def _start_with_retries(self, bin_dir: Path) -> None:
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = free_port()
            log_start = _size(self.log_path)
            result = self._pg_ctl_start(bin_dir, port)
            if result.returncode == 0:
                self._port = port
                self._running = True
                return
            log_tail = _tail(self.log_path, log_start)
            # A lost race for the port: pick another one. Anything else is a real failure.
            if attempt < _START_ATTEMPTS and any(text in log_tail for text in _PORT_IN_USE):
                self._kill_postmaster(self._require_directory())
                continue
            raise RuntimeError(
                f"PostgreSQL failed to start on 127.0.0.1:{port} (pg_ctl exit "
                f"{result.returncode}).\npg_ctl output:\n{result.stdout}{result.stderr}\n"
                f"server log {self.log_path} (tail):\n{log_tail}"
            )

    def _pg_ctl_start(self, bin_dir: Path, port: int) -> subprocess.CompletedProcess[str]:
        directory = self._require_directory()
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {port}",
                f"-k {shlex.quote(str(directory))}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        return self._run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-o",
                options,
                "-w",
                "-t",
                str(self._startup_timeout),
                "start",
            ],
            cwd=directory,
            timeout=self._startup_timeout + 30,
        )

    def _stop_server(self, directory: Path) -> None:
        pg_ctl = str((self._bin_dir or find_postgres_bin_dir()) / "pg_ctl")
        stop = [pg_ctl, "-D", str(directory / "data"), "stop", "-m", "immediate", "-w", "-t", "30"]
        try:
            stopped = self._run(stop, cwd=directory, timeout=60).returncode == 0
        except subprocess.TimeoutExpired:
            stopped = False
        if not stopped:
            self._kill_postmaster(directory)

    @staticmethod
    def _kill_postmaster(directory: Path) -> None:
        """Last resort when pg_ctl cannot stop the server: SIGKILL the postmaster."""
        pid_file = directory / "data" / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text(encoding="ascii").splitlines()[0])
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                os.kill(pid, 0)  # raises ProcessLookupError (an OSError) once it is gone
                time.sleep(0.05)


def _check(name: str) -> str:
    if not _DATABASE_NAME.fullmatch(name):
        raise ValueError(f"database name must be a plain identifier, got {name!r}")
    return name
