"""A recording SMTP server for integration tests (aiosmtpd), optionally with AUTH and STARTTLS.

Every accepted message is kept as a :class:`ReceivedMessage`; ``wait_for(n)`` blocks until at
least ``n`` have arrived. STARTTLS uses a self-signed certificate for ``localhost`` and
``127.0.0.1`` made at start-up with the ``openssl`` command; clients can trust ``cert_path``.

Warnings: aiosmtpd's SMTP class emits a ``UserWarning`` ("Requiring AUTH while not requiring
TLS …") when ``auth_required=True`` is combined with ``auth_require_tls=False``; under
``filterwarnings = error`` that would abort every connection. This server therefore never sets
``auth_required``: with ``require_auth=True`` it rejects ``MAIL FROM`` before a successful
AUTH itself (``530 5.7.0 Authentication required``), which clients see the same way.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import hmac
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["ReceivedMessage", "SmtpServer", "make_self_signed_cert"]

_SERVER_HOSTNAME = "civicshield-test-smtp"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    data: bytes
    authenticated_as: str | None


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` (P-256, CN=localhost, SAN localhost + 127.0.0.1)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError(
            "the `openssl` command is needed to make the STARTTLS test certificate; "
            "install it (Debian/Ubuntu: `apt-get install openssl`)"
        )
    cert, key = directory / "cert.pem", directory / "key.pem"
    result = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl could not make a test certificate:\n{result.stderr}")
    return cert, key


class _RecordingHandler:
    """aiosmtpd handler: optional AUTH gate on MAIL, records every message on DATA."""

    def __init__(self, *, require_auth: bool) -> None:
        self.require_auth = require_auth
        self.messages: list[ReceivedMessage] = []
        self.arrived = threading.Condition()

    async def handle_MAIL(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        data = envelope.original_content
        if data is None:
            content = envelope.content
            data = content.encode() if isinstance(content, str) else content or b""
        received = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(data, policy=email.policy.default),
            data=data,
            authenticated_as=session.auth_data if isinstance(session.auth_data, str) else None,
        )
        with self.arrived:
            self.messages.append(received)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd Controller serving on a socket bound beforehand (no race for the port)."""

    def __init__(self, handler: _RecordingHandler, sock: socket.socket, **kwargs: Any) -> None:
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)

    def _create_server(self) -> Coroutine[Any, Any, asyncio.AbstractServer]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)

    def factory(self) -> SMTP:
        # Hand SMTP the controller's loop: without it aiosmtpd looks the loop up inside
        # warnings.catch_warnings() in the server thread, which races with pytest's own
        # (process-global) warning filters.
        return SMTP(self.handler, loop=self.loop, **self.SMTP_kwargs)


class SmtpServer:
    """Recording SMTP server on a free loopback port; use as a context manager.

    ``require_auth``: MAIL FROM is refused until AUTH PLAIN/LOGIN with ``username`` and
    ``password`` (random unless given) succeeded. ``starttls``: STARTTLS is offered with a
    fresh self-signed certificate (``cert_path``); ``require_starttls`` refuses mail before it.
    ``auth_require_tls`` (default: same as ``starttls``) refuses AUTH before STARTTLS; over a
    plain-text-only server AUTH must be allowed, as aiosmtpd otherwise refuses it.
    """

    def __init__(
        self,
        *,
        require_auth: bool = False,
        username: str = "mailer",
        password: str | None = None,
        starttls: bool = False,
        require_starttls: bool = False,
        auth_require_tls: bool | None = None,
    ) -> None:
        self.require_auth = require_auth
        self.username = username
        self.password = password if password is not None else secrets.token_urlsafe(12)
        self.starttls = starttls
        self.require_starttls = require_starttls
        self.auth_require_tls = starttls if auth_require_tls is None else auth_require_tls
        self._handler = _RecordingHandler(require_auth=require_auth)
        self._controller: _Controller | None = None
        self._sock: socket.socket | None = None
        self._directory: Path | None = None
        self._cert_path: Path | None = None
        self._port: int | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("SmtpServer is not running; call start() or use `with`")
        return self._port

    @property
    def cert_path(self) -> Path:
        """PEM certificate a client can trust (``ssl.create_default_context(cafile=…)``)."""
        if self._cert_path is None:
            raise RuntimeError("no certificate: the server was not started with starttls=True")
        return self._cert_path

    @property
    def messages(self) -> list[ReceivedMessage]:
        """Messages received so far, oldest first (a snapshot)."""
        with self._handler.arrived:
            return list(self._handler.messages)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least ``count`` messages arrived; TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._handler.arrived:
            while len(self._handler.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"expected {count} message(s) within {timeout}s, "
                        f"got {len(self._handler.messages)}"
                    )
                self._handler.arrived.wait(remaining)
            return list(self._handler.messages)

    def clear(self) -> None:
        with self._handler.arrived:
            self._handler.messages.clear()

    def start(self) -> SmtpServer:
        if self._port is not None:
            return self
        kwargs: dict[str, Any] = {
            "server_hostname": _SERVER_HOSTNAME,
            "authenticator": self._authenticate,
            "auth_require_tls": self.auth_require_tls,
        }
        try:
            if self.starttls:
                self._directory = Path(tempfile.mkdtemp(prefix="civicshield-smtp-"))
                cert, key = make_self_signed_cert(self._directory)
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.load_cert_chain(cert, key)
                self._cert_path = cert
                kwargs.update(tls_context=context, require_starttls=self.require_starttls)
            sock = self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, 0))
            controller = self._controller = _Controller(self._handler, sock, **kwargs)
            controller.start()
        except BaseException:
            self.stop()
            raise
        self._port = int(sock.getsockname()[1])
        return self

    def stop(self) -> None:
        """Stop the server thread and remove the certificate directory. Idempotent."""
        controller, self._controller = self._controller, None
        self._port = None
        if controller is not None:
            controller.stop(no_assert=True)
            if not controller.loop.is_closed():  # the thread died before running the loop
                controller.loop.close()
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
        directory, self._directory = self._directory, None
        self._cert_path = None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: object,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = hmac.compare_digest(auth_data.login, self.username.encode()) and hmac.compare_digest(
            auth_data.password, self.password.encode()
        )
        return AuthResult(success=ok, handled=False, auth_data=self.username if ok else None)
