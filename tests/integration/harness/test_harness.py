"""The test harness itself: real PostgreSQL, Redis, SMTP and uvicorn servers start and work."""

from __future__ import annotations

import smtplib
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.harness import (
    LiveServer,
    PostgresServer,
    RedisServer,
    SmtpServer,
    free_port,
    require_or_skip,
)
from tests.harness import postgres as harness_postgres

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _scalar(url: str, query: str, **params: str) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query), params).scalar_one()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
    except RuntimeError as exc:
        require_or_skip(exc, "PostgreSQL")
    try:
        yield server
    finally:
        server.stop()


def _message(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "alerts@civicshield.test"
    msg["To"] = "soc@city.test"
    msg["Subject"] = subject
    msg.set_content("Severity: high\nRule: Suspicious PowerShell\n")
    return msg


# -- ports -------------------------------------------------------------------------------------


def test_free_port_is_unprivileged_and_not_repeated() -> None:
    ports = [free_port() for _ in range(20)]
    assert len(set(ports)) == len(ports)
    assert all(1024 <= port < 65536 for port in ports)
    assert not {25, 587, 5432, 6379, 8000, 8080} & set(ports)


# -- missing software and CI ------------------------------------------------------------------


def test_missing_binaries_raise_runtime_error_naming_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        PostgresServer(bin_dir=tmp_path).start()
    monkeypatch.setattr(harness_postgres, "_DEBIAN_BIN_GLOB", str(tmp_path / "*" / "bin"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        harness_postgres.find_postgres_bin_dir()
    with pytest.raises(RuntimeError, match="apt-get install redis-server"):
        RedisServer(binary=tmp_path / "redis-server").start()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(("ci", "outcome"), [("", "skip"), ("false", "skip"), ("1", "fail")])
def test_require_or_skip_fails_only_in_ci(
    ci: str, outcome: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", ci)
    expected = pytest.skip.Exception if outcome == "skip" else pytest.fail.Exception
    with pytest.raises(expected, match="PostgreSQL is not available: no initdb"):
        require_or_skip(RuntimeError("no initdb"), "PostgreSQL")


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_select_one(postgres: PostgresServer) -> None:
    assert postgres.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert _scalar(postgres.url, "select 1") == 1
    assert _scalar(postgres.url, "show server_encoding") == "UTF8"


@pytest.mark.postgres
def test_postgres_create_and_drop_database(postgres: PostgresServer) -> None:
    name = f"harness_{uuid.uuid4().hex[:12]}"
    url = postgres.create_database(name)
    assert url == postgres.url_for(name)
    assert _scalar(url, "select current_database()") == name
    postgres.drop_database(name)
    count = _scalar(postgres.url, "select count(*) from pg_database where datname = :n", n=name)
    assert count == 0
    postgres.drop_database(name)  # dropping a missing database is fine


@pytest.mark.postgres
def test_postgres_rejects_unsafe_database_names(postgres: PostgresServer) -> None:
    with pytest.raises(ValueError, match="plain identifier"):
        postgres.create_database('x"; drop database postgres; --')


@pytest.mark.postgres
def test_postgres_lifecycle_outside_pytest_tmp_and_idempotent_stop() -> None:
    server = PostgresServer()
    began = time.monotonic()
    try:
        server.start()
    except RuntimeError as exc:
        require_or_skip(exc, "PostgreSQL")
    started = time.monotonic() - began
    directory = server.directory
    assert directory is not None
    assert directory.is_dir()
    assert directory.name.startswith("civicshield-pg-")
    assert "pytest-of-" not in str(directory)
    assert server.log_path.is_file()
    assert _scalar(server.url, "select 1") == 1
    began = time.monotonic()
    server.stop()
    stopped = time.monotonic() - began
    assert not directory.exists()
    assert server.directory is None
    assert not server.is_running
    server.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    print(f"PostgreSQL start {started:.2f}s, stop {stopped:.2f}s")


# -- SMTP --------------------------------------------------------------------------------------


def test_smtp_plain_message_arrives() -> None:
    with SmtpServer() as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="localhost", timeout=10) as client:
            client.send_message(_message("plain"))
        (received,) = smtp.wait_for(1)
    assert received.mail_from == "alerts@civicshield.test"
    assert received.rcpt_tos == ("soc@city.test",)
    assert received.message["Subject"] == "plain"
    assert "Suspicious PowerShell" in received.message.get_content()
    assert received.authenticated_as is None


def test_smtp_auth_required() -> None:
    with SmtpServer(require_auth=True, username="mailer", password="pw-123") as smtp:
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="localhost", timeout=10) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.send_message(_message("no auth"))
            assert refused.value.smtp_code == 530
        with (
            smtplib.SMTP(smtp.host, smtp.port, local_hostname="localhost", timeout=10) as client,
            pytest.raises(smtplib.SMTPAuthenticationError),
        ):
            client.login("mailer", "wrong")
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="localhost", timeout=10) as client:
            client.login("mailer", "pw-123")
            client.send_message(_message("with auth"))
        (received,) = smtp.wait_for(1)
    assert received.message["Subject"] == "with auth"
    assert received.authenticated_as == "mailer"


def test_smtp_starttls_with_auth() -> None:
    with SmtpServer(starttls=True, require_starttls=True, require_auth=True) as smtp:
        context = ssl.create_default_context(cafile=str(smtp.cert_path))
        with smtplib.SMTP(smtp.host, smtp.port, local_hostname="localhost", timeout=10) as client:
            client.ehlo()
            assert client.has_extn("starttls")
            assert not client.has_extn("auth")  # AUTH only after TLS
            client.starttls(context=context)
            client.ehlo()
            client.login(smtp.username, smtp.password)
            client.send_message(_message("over tls"))
        (received,) = smtp.wait_for(1)
        cert_path = smtp.cert_path
    assert received.message["Subject"] == "over tls"
    assert not cert_path.exists()  # the certificate directory is removed on stop


def test_smtp_wait_for_times_out() -> None:
    with SmtpServer() as smtp, pytest.raises(TimeoutError, match="expected 1"):
        smtp.wait_for(1, timeout=0.05)


# -- Redis -------------------------------------------------------------------------------------


def test_redis_ping_set_get() -> None:
    server = RedisServer()
    try:
        server.start()
    except RuntimeError as exc:
        require_or_skip(exc, "Redis")
    try:
        directory = server.directory
        assert directory is not None
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        assert server.execute("PING") == "PONG"
        assert server.execute("SET", "civicshield:k", "v\r\nwith crlf") == "OK"
        assert server.execute("GET", "civicshield:k") == b"v\r\nwith crlf"
        assert server.execute("GET", "civicshield:missing") is None
        assert server.execute("INCR", "civicshield:n") == 1
    finally:
        server.stop()
    assert not directory.exists()
    assert not server.is_running
    server.stop()  # idempotent


# -- uvicorn live server -----------------------------------------------------------------------


class _App:
    """A minimal ASGI app that records lifespan events."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].removeprefix("lifespan.")
                self.events.append(kind)
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        body = f"hello {scope['path']}".encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def test_live_server_serves_and_runs_lifespan() -> None:
    app = _App()
    server = LiveServer(app)
    with server:
        assert app.events == ["startup"]
        port = server.port
        assert server.url == f"http://127.0.0.1:{port}"
        response = httpx.get(f"{server.url}/ping", timeout=10)
        assert response.status_code == 200
        assert response.text == "hello /ping"
    assert app.events == ["startup", "shutdown"]
    server.stop()  # idempotent
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
