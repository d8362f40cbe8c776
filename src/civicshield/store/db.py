"""Engine and session factory built from settings (never at import time)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from civicshield.core.errors import CivicShieldError, ConfigError
from civicshield.core.settings import Settings

__all__ = ["Database", "make_engine"]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _make_sqlite_parent(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        if url.startswith("sqlite"):
            _make_sqlite_parent(url)
            # A pool as large as the server's thread pool: opening a SQLite connection (and
            # setting its pragmas) per request would cost more than the request itself.
            engine = create_engine(
                url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": 10},
                pool_size=20,
                max_overflow=40,
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(
                url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20
            )
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"CIVICSHIELD_DATABASE_URL is not a usable database URL: {exc}") from None
    except ImportError as exc:
        raise ConfigError(
            f"CIVICSHIELD_DATABASE_URL needs a driver that is not installed: {exc}"
        ) from None
    return engine


class Database:
    """Owns the engine and hands out sessions; the caller's boundary commits."""

    def __init__(self, settings: Settings) -> None:
        url = settings.resolved_database_url
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check_connection(self) -> None:
        """Fail with a clear message when the database cannot be reached."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            safe = self.engine.url.render_as_string(hide_password=True)
            raise ConfigError(f"cannot connect to the database {safe}: {reason}") from None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on error, except errors that say
        their changes must be kept (`CivicShieldError.keep_changes`)."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except CivicShieldError as exc:
            if exc.keep_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
