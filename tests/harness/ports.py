"""Free loopback TCP ports for the servers the test harness starts."""

from __future__ import annotations

import socket
import threading

__all__ = ["free_port"]

# Well-known ports of the services the harness stands in for (and common dev ports). A test
# server must never take one of these, so a developer's real PostgreSQL, Redis, SMTP relay or
# dev web server can never be confused with (or clobbered by) a test server.
_STANDARD_PORTS = frozenset(
    {25, 80, 443, 465, 587, 1025, 3000, 5000, 5432, 6379, 8000, 8025, 8080, 8443, 8888, 9000}
)
# Ports already handed out in this process; the kernel may hand out a just-released port again,
# and two servers of one test session must not race for the same one.
_HANDED_OUT: set[int] = set()
_LOCK = threading.Lock()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now and not a standard service port.

    The port is found by binding ``127.0.0.1:0`` and releasing it again, so another process
    could in principle take it before the caller binds it; the servers of this harness retry
    with a fresh port when that happens.
    """
    with _LOCK:
        for _ in range(200):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port < 1024 or port in _STANDARD_PORTS or port in _HANDED_OUT:
                continue
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("could not find a free loopback TCP port")
