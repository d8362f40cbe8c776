"""A syslog receiver: UDP (RFC 5426), TCP (RFC 6587 octet counting and LF framing) and TLS
(RFC 5425), run by asyncio on its own loop in a daemon thread, feeding one bounded queue.

Back-pressure: when the queue is full, TCP and TLS connections stop reading (the sender's
kernel buffers fill, then its writes block) until `drain` takes the queue below half. UDP has no
back-pressure: a datagram that arrives while the queue is full is dropped and counted in
`dropped_udp`. Behaviour and limits: docs/telemetry-sources.md.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from civicshield.core.errors import ConfigError
from civicshield.telemetry._syslog_framing import FramingError, StreamFramer, udp_message

__all__ = ["SyslogMessage", "SyslogServer"]

log = logging.getLogger(__name__)

_STAT_NAMES = (
    "received",
    "dropped_udp",
    "oversized",
    "framing_errors",
    "connections",
    "refused_connections",
    "pauses",
)


@dataclass(frozen=True)
class SyslogMessage:
    received_at: datetime  # UTC
    peer: str  # "ip:port" ("[ip]:port" for IPv6)
    transport: str  # "udp" | "tcp" | "tls"
    data: bytes  # one message, framing removed, trailing \n / \r\n / \0 removed


def _peer(addr: Any) -> str:
    if isinstance(addr, tuple) and len(addr) >= 2:
        host, port = addr[0], addr[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(addr)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: SyslogServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: Any) -> None:
        message, cut = udp_message(data, self.server.max_message_bytes)
        self.server._put_datagram(_peer(addr), message, cut)


class _Stream(asyncio.Protocol):
    """One TCP or TLS connection: frames the stream, offers messages to the queue, and holds
    what did not fit (at most one read's worth) while reading is paused."""

    def __init__(self, server: SyslogServer, kind: str) -> None:
        self.server = server
        self.kind = kind
        self.framer = StreamFramer(server.max_message_bytes)
        self.transport: asyncio.Transport | None = None
        self.peer = "?"
        self.pending: collections.deque[bytes] = collections.deque()
        self.paused = False
        self.accepted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.peer = _peer(transport.get_extra_info("peername"))
        self.accepted = self.server._accept(self)

    def data_received(self, data: bytes) -> None:
        before = self.framer.oversized
        try:
            messages = self.framer.feed(data)
        except FramingError as exc:
            self.server._offer(self, exc.messages)
            log.warning("syslog %s %s: %s; closing the connection", self.kind, self.peer, exc)
            self.server._count("framing_errors")
            assert self.transport is not None
            self.transport.close()
            return
        if self.framer.oversized != before:
            self.server._count("oversized", self.framer.oversized - before)
        self.server._offer(self, messages)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.accepted:
            self.server._release(self)
        if self.pending:
            log.warning(
                "syslog %s %s: closed with %d messages unqueued",
                self.kind,
                self.peer,
                len(self.pending),
            )


class SyslogServer:
    """Receive syslog on the configured ports; `drain` the messages from any thread."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        udp_port: int | None = None,
        tcp_port: int | None = None,
        tls_port: int | None = None,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        max_message_bytes: int = 65_536,
        queue_max: int = 100_000,
        max_connections: int = 256,
    ) -> None:
        if udp_port is None and tcp_port is None and tls_port is None:
            raise ConfigError("syslog server: set at least one of udp_port, tcp_port, tls_port")
        if max_message_bytes < 1 or queue_max < 1 or max_connections < 1:
            raise ConfigError("syslog server: limits must be at least 1")
        self.host = host
        self.max_message_bytes = max_message_bytes
        self.queue_max = queue_max
        self.max_connections = max_connections
        self._wanted = {"udp": udp_port, "tcp": tcp_port, "tls": tls_port}
        self._ssl: ssl.SSLContext | None = None
        if tls_port is not None:
            self._ssl = _server_context(certfile, keyfile)
        self._queue: collections.deque[SyslogMessage] = collections.deque()
        self._cond = threading.Condition()
        self._stats = dict.fromkeys(_STAT_NAMES, 0)
        self._ports: dict[str, int] = {}
        self._streams: set[_Stream] = set()
        self._paused: dict[_Stream, None] = {}  # ordered: resumed oldest first
        self._resume_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closers: list[Any] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Bind every configured port (0 = any free port) and serve in a daemon thread; a bind
        error is raised here."""
        if self._thread is not None:
            raise RuntimeError("syslog server already started")
        loop = asyncio.new_event_loop()
        ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop, ready), name="syslog-server", daemon=True
        )
        self._thread.start()
        try:
            ready.result(timeout=30)
        except BaseException:
            self._thread.join(timeout=10)
            self._thread = self._loop = None
            raise

    def _run(self, loop: asyncio.AbstractEventLoop, ready: concurrent.futures.Future[None]) -> None:
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self._bind(loop))
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            loop.run_forever()
        finally:
            loop.run_until_complete(self._close_all())
            loop.close()

    async def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if (port := self._wanted["udp"]) is not None:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self), local_addr=(self.host, port)
            )
            self._closers.append(transport)
            self._ports["udp"] = transport.get_extra_info("sockname")[1]
        for kind, context in (("tcp", None), ("tls", self._ssl)):
            if (port := self._wanted[kind]) is None:
                continue
            server = await loop.create_server(
                lambda kind=kind: _Stream(self, kind),
                self.host,
                port,
                ssl=context,
                ssl_handshake_timeout=30 if context is not None else None,
            )
            self._closers.append(server)
            self._ports[kind] = server.sockets[0].getsockname()[1]

    async def _close_all(self) -> None:
        for closer in self._closers:
            closer.close()
        for stream in list(self._streams):
            if stream.transport is not None:
                stream.transport.abort()
        for closer in self._closers:
            if isinstance(closer, asyncio.Server):
                await closer.wait_closed()
        await asyncio.sleep(0)  # let connection_lost callbacks run
        self._closers.clear()

    def stop(self) -> None:
        """Close every port and connection; messages already queued can still be drained."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        self._loop = self._thread = None

    def __enter__(self) -> SyslogServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ports(self) -> dict[str, int]:
        """The bound port per transport ("udp", "tcp", "tls")."""
        return dict(self._ports)

    # -- the queue (loop thread side) ----------------------------------------------------------

    def _count(self, name: str, n: int = 1) -> None:
        with self._cond:
            self._stats[name] += n

    def _accept(self, stream: _Stream) -> bool:
        with self._cond:
            if self._stats["connections"] >= self.max_connections:
                self._stats["refused_connections"] += 1
                refuse = True
            else:
                self._stats["connections"] += 1
                refuse = False
        if refuse:
            log.warning(
                "syslog %s %s: over %d connections; refused",
                stream.kind,
                stream.peer,
                self.max_connections,
            )
            assert stream.transport is not None
            stream.transport.close()
            return False
        self._streams.add(stream)
        return True

    def _release(self, stream: _Stream) -> None:
        self._streams.discard(stream)
        with self._cond:
            self._paused.pop(stream, None)
            self._stats["connections"] -= 1

    def _put_datagram(self, peer: str, message: bytes, cut: bool) -> None:
        with self._cond:
            self._stats["oversized"] += cut
            if not message:
                return
            if len(self._queue) >= self.queue_max:
                self._stats["dropped_udp"] += 1
                return
            self._queue.append(SyslogMessage(datetime.now(UTC), peer, "udp", message))
            self._stats["received"] += 1
            self._cond.notify_all()

    def _offer(self, stream: _Stream, messages: list[bytes]) -> None:
        """Queue what fits; keep the rest on the stream and pause its reading when full."""
        stream.pending.extend(messages)
        with self._cond:
            now = datetime.now(UTC)
            room = self.queue_max - len(self._queue)
            taken = 0
            while stream.pending and taken < room:
                self._queue.append(
                    SyslogMessage(now, stream.peer, stream.kind, stream.pending.popleft())
                )
                taken += 1
            self._stats["received"] += taken
            if taken:
                self._cond.notify_all()
            if len(self._queue) >= self.queue_max and not stream.paused:
                # Paused under the lock, so `drain` always sees who is waiting for room.
                self._stats["pauses"] += 1
                stream.paused = True
                self._paused[stream] = None
                if stream.transport is not None:
                    stream.transport.pause_reading()

    def _resume(self) -> None:
        with self._cond:
            self._resume_scheduled = False
            waiting = list(self._paused)
        for stream in waiting:
            with self._cond:
                self._paused.pop(stream, None)
                stream.paused = False
            self._offer(stream, [])
            if stream.paused:
                break  # full again: the others wait for the next drain
            if stream.transport is not None and not stream.transport.is_closing():
                stream.transport.resume_reading()

    # -- the queue (consumer side) -------------------------------------------------------------

    def drain(self, max_items: int = 10_000, timeout: float = 0.0) -> list[SyslogMessage]:
        """Up to `max_items` messages, oldest first; waits up to `timeout` seconds for the first.
        Safe from any thread."""
        with self._cond:
            if not self._queue and timeout > 0:
                self._cond.wait_for(lambda: bool(self._queue), timeout)
            count = min(max_items, len(self._queue))
            items = [self._queue.popleft() for _ in range(count)]
            resume = (
                bool(self._paused)
                and len(self._queue) < self.queue_max // 2 + 1
                and not self._resume_scheduled
            )
            if resume:
                self._resume_scheduled = True
        loop = self._loop
        if resume and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._resume)
        return items

    def stats(self) -> dict[str, int]:
        """Counters: received, dropped_udp, oversized, framing_errors, connections (open now),
        refused_connections, pauses, queued."""
        with self._cond:
            return {**self._stats, "queued": len(self._queue)}


def _server_context(certfile: Path | None, keyfile: Path | None) -> ssl.SSLContext:
    if certfile is None or keyfile is None:
        raise ConfigError("syslog server: tls_port needs certfile and keyfile")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # TLS 1.0/1.1 are deprecated (RFC 8996)
    try:
        context.load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"syslog server: cannot load TLS certificate {certfile} / key {keyfile}: {exc}"
        ) from exc
    return context
