"""Helpers that start real servers (PostgreSQL, Redis, SMTP, uvicorn) for the test suite.

Servers bind 127.0.0.1 on free ports and clean up after themselves. When a server cannot be
started because something is not installed, its ``start()`` raises ``RuntimeError`` naming what
to install; fixtures pass that to :func:`require_or_skip`.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

from .live_server import LiveServer
from .ports import free_port
from .postgres import PostgresServer
from .redis import RedisServer
from .smtp import ReceivedMessage, SmtpServer

__all__ = [
    "LiveServer",
    "PostgresServer",
    "ReceivedMessage",
    "RedisServer",
    "SmtpServer",
    "free_port",
    "in_ci",
    "require_or_skip",
]


def in_ci() -> bool:
    """True when the ``CI`` environment variable is set to anything but ``""``/0/false/no."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def require_or_skip(exc: Exception, what: str) -> NoReturn:
    """A required service could not start: fail under CI (it must have it), else skip."""
    reason = f"{what} is not available: {exc}"
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so it is required)", pytrace=False)
    pytest.skip(reason)
