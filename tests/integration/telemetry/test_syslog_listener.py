"""The syslog listener with real clients: util-linux `logger` over UDP and TCP (RFC 3164 and
5424, LF and octet-counting framing), a Python TLS client (RFC 5425), and back-pressure."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from civicshield.core import ConfigError
from civicshield.telemetry.syslog_server import SyslogMessage, SyslogServer

LOGGER = shutil.which("logger")
needs_logger = pytest.mark.skipif(LOGGER is None, reason="util-linux `logger` is not installed")


def collect(server: SyslogServer, count: int, deadline_s: float = 20) -> list[SyslogMessage]:
    got: list[SyslogMessage] = []
    deadline = time.monotonic() + deadline_s
    while len(got) < count and time.monotonic() < deadline:
        got.extend(server.drain(timeout=0.1))
    return got


@pytest.fixture
def server() -> Iterator[SyslogServer]:
    with SyslogServer(udp_port=0, tcp_port=0) as srv:
        yield srv


def run_logger(port: int, *args: str, lines: list[str]) -> None:
    assert LOGGER is not None
    subprocess.run(
        [LOGGER, "--server", "127.0.0.1", "--port", str(port), *args],
        input="\n".join(lines).encode() + b"\n",
        check=True,
        timeout=30,
    )


@needs_logger
@pytest.mark.parametrize("fmt", ["--rfc3164", "--rfc5424"])
def test_logger_udp(server: SyslogServer, fmt: str) -> None:
    texts = [f"udp {fmt} message {i}" for i in range(20)]
    run_logger(server.ports["udp"], "--udp", fmt, "-t", "civic", lines=texts)
    got = collect(server, len(texts))
    assert {m.transport for m in got} == {"udp"}
    assert len(got) == len(texts)
    for message, text in zip(got, texts, strict=True):
        assert message.data.endswith(text.encode())
    first = got[0]
    assert first.data.startswith(b"<13>")
    assert first.peer.startswith("127.0.0.1:")
    assert first.received_at.utcoffset() is not None


@needs_logger
@pytest.mark.parametrize(
    "args",
    [
        ("--rfc3164",),
        ("--rfc5424",),
        ("--rfc5424", "--octet-count"),
        ("--rfc3164", "--octet-count"),
    ],
)
def test_logger_tcp_both_framings(server: SyslogServer, args: tuple[str, ...]) -> None:
    texts = [f"tcp {' '.join(args)} message {i} with spaces" for i in range(50)]
    run_logger(server.ports["tcp"], "--tcp", *args, "-t", "civic", lines=texts)
    got = collect(server, len(texts))
    assert len(got) == len(texts)
    assert all(m.transport == "tcp" for m in got)
    for message, text in zip(got, texts, strict=True):
        assert message.data.startswith(b"<13>")
        assert message.data.endswith(text.encode())  # framing and trailer removed
    assert server.stats()["framing_errors"] == 0


def make_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("neither the `cryptography` package nor `openssl` is available for a cert")
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", str(key), "-out",
            str(cert), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_octet_counted_messages_arrive(tmp_path: Path) -> None:
    cert, key = make_cert(tmp_path)
    texts = [f"<165>1 2026-11-22T12:00:00Z host app - - - tls message {i}" for i in range(100)]
    with SyslogServer(tls_port=0, certfile=cert, keyfile=key) as server:
        context = ssl.create_default_context(cafile=str(cert))
        with (
            socket.create_connection(("127.0.0.1", server.ports["tls"]), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            payload = b"".join(b"%d %s" % (len(t), t.encode()) for t in texts)
            tls.sendall(payload[:1000])  # a frame split across TLS records
            tls.sendall(payload[1000:] + b"<13>lf framed too\n")
            got = collect(server, len(texts) + 1)
        assert [m.data.decode() for m in got] == [*texts, "<13>lf framed too"]
        assert {m.transport for m in got} == {"tls"}


def test_tls_needs_cert_and_key() -> None:
    with pytest.raises(ConfigError, match="certfile and keyfile"):
        SyslogServer(tls_port=0)


def test_bad_octet_count_closes_the_connection(server: SyslogServer) -> None:
    with socket.create_connection(("127.0.0.1", server.ports["tcp"]), timeout=10) as sock:
        sock.sendall(b"<13>fine\n99999999 too long\n")
        got = collect(server, 1)
        assert sock.recv(100) == b""  # closed by the server
    assert [m.data for m in got] == [b"<13>fine"]
    assert server.stats()["framing_errors"] == 1


def test_over_long_lf_line_is_cut_and_counted() -> None:
    with SyslogServer(tcp_port=0, max_message_bytes=16) as server:
        with socket.create_connection(("127.0.0.1", server.ports["tcp"]), timeout=10) as sock:
            sock.sendall(b"<13>" + b"x" * 100 + b"\n<13>short\n")
            got = collect(server, 2)
        assert [m.data for m in got] == [b"<13>" + b"x" * 12, b"<13>short"]
        assert server.stats()["oversized"] == 1


def test_back_pressure_tiny_queue_delivers_everything() -> None:
    total = 20_000
    with SyslogServer(tcp_port=0, queue_max=50) as server:

        def send() -> None:
            with socket.create_connection(("127.0.0.1", server.ports["tcp"]), timeout=60) as s:
                s.sendall(b"".join(b"<13>message %d\n" % i for i in range(total)))

        sender = threading.Thread(target=send)
        sender.start()
        got: list[SyslogMessage] = []
        deadline = time.monotonic() + 60
        while len(got) < total and time.monotonic() < deadline:
            assert server.stats()["queued"] <= 50
            batch = server.drain(max_items=20, timeout=0.05)
            got.extend(batch)
            time.sleep(0.0005)  # a slow consumer
        sender.join(timeout=60)
        stats = server.stats()
    assert [m.data for m in got] == [b"<13>message %d" % i for i in range(total)]
    assert stats["pauses"] > 0 and stats["received"] == total


def test_udp_overflow_is_counted_not_queued() -> None:
    with SyslogServer(udp_port=0, queue_max=10) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for i in range(100):
                sock.sendto(b"<13>dgram %d" % i, ("127.0.0.1", server.ports["udp"]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stats = server.stats()
            if stats["received"] + stats["dropped_udp"] == 100:
                break
            time.sleep(0.01)
        assert (stats["received"], stats["dropped_udp"]) == (10, 90)
        assert len(server.drain()) == 10


def test_connection_limit_refuses_extra_clients() -> None:
    with SyslogServer(tcp_port=0, max_connections=1) as server:
        port = server.ports["tcp"]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as first:
            first.sendall(b"<13>first\n")
            assert [m.data for m in collect(server, 1)] == [b"<13>first"]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as second:
                assert second.recv(10) == b""
            assert server.stats()["refused_connections"] == 1


def test_port_in_use_is_raised_by_start(server: SyslogServer) -> None:
    clash = SyslogServer(tcp_port=server.ports["tcp"])
    with pytest.raises(OSError, match=r"(?i)in use"):
        clash.start()
