"""The SMTP sender against a real local SMTP server (aiosmtpd), plain, AUTH and STARTTLS."""

from __future__ import annotations

import ssl

import pytest

from civicshield.core import ConfigError, ExternalServiceError, Invalid, SmtpSecurity
from civicshield.jobs import JobStatus
from civicshield.mail import MailConfig, Mailer, OutgoingMail
from civicshield.runtime import Runtime
from civicshield.worker import Worker
from tests.harness import SmtpServer, free_port


def config(server: SmtpServer, **kw: object) -> MailConfig:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": SmtpSecurity.NONE,
        "username": None,
        "password": None,
        "sender": "soc@ciudad-demo.mx",
        "timeout": 5.0,
    }
    values.update(kw)
    return MailConfig(**values)  # type: ignore[arg-type]


MAIL = OutgoingMail(
    to=["ciso@ciudad-demo.mx"],
    subject="Aviso: incidente 42",
    text="Texto plano — ñ é",
    html="<p>Texto <b>HTML</b></p>",
)


def test_plain_delivery_with_html_alternative() -> None:
    with SmtpServer() as server:
        message_id = Mailer(config(server)).send(MAIL)
        (received,) = server.wait_for(1)
    assert received.message["Message-ID"] == message_id
    assert received.rcpt_tos == ("ciso@ciudad-demo.mx",)
    assert received.message["Subject"] == "Aviso: incidente 42"
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None and "ñ é" in body.get_content()
    assert received.message.get_body(preferencelist=("html",)) is not None


def test_auth_over_starttls() -> None:
    with SmtpServer(require_auth=True, starttls=True, require_starttls=True) as server:
        context = ssl.create_default_context(cafile=str(server.cert_path))
        mailer = Mailer(
            config(
                server,
                security=SmtpSecurity.STARTTLS,
                username=server.username,
                password=server.password,
                ssl_context=context,
            )
        )
        mailer.send(MAIL)
        assert len(server.wait_for(1)) == 1


def test_wrong_credentials_are_a_clear_error() -> None:
    with SmtpServer(require_auth=True, starttls=True) as server:
        context = ssl.create_default_context(cafile=str(server.cert_path))
        mailer = Mailer(
            config(
                server,
                security=SmtpSecurity.STARTTLS,
                username=server.username,
                password="wrong",
                ssl_context=context,
            )
        )
        with pytest.raises(ExternalServiceError, match="refused or failed"):
            mailer.send(MAIL)
        assert server.messages == []


def test_unreachable_server_and_missing_config() -> None:
    cfg = MailConfig(
        host="127.0.0.1",
        port=free_port(),
        security=SmtpSecurity.NONE,
        username=None,
        password=None,
        sender="a@b.c",
        timeout=2.0,
    )
    with pytest.raises(ExternalServiceError, match=r"127\.0\.0\.1"):
        Mailer(cfg).send(MAIL)
    with pytest.raises(ConfigError, match="CIVICSHIELD_SMTP_HOST"):
        Mailer(
            MailConfig(
                host=None,
                port=25,
                security=SmtpSecurity.NONE,
                username=None,
                password=None,
                sender="a@b.c",
                timeout=1,
            )
        ).send(MAIL)


def test_header_injection_refused() -> None:
    with pytest.raises(Invalid, match="line breaks"):
        Mailer(
            MailConfig(
                host="x",
                port=25,
                security=SmtpSecurity.NONE,
                username=None,
                password=None,
                sender="a@b.c",
                timeout=1,
            )
        ).build(OutgoingMail(to=["a@b.c"], subject="hi\nBcc: all@city", text="x"))


def test_mail_job_sends_through_the_worker(runtime: Runtime) -> None:
    from civicshield import jobs

    with SmtpServer() as server:
        runtime.mailer = Mailer(config(server))
        with runtime.session() as s:
            jobs.enqueue(
                s,
                "mail.send",
                registry=runtime.jobs,
                clock=runtime.clock,
                args={"to": ["ops@ciudad-demo.mx"], "subject": "Prueba", "text": "hola"},
            )
        ran = Worker(runtime).tick()
        assert [j.status for j in ran if j.name == "mail.send"] == [JobStatus.SUCCEEDED]
        assert server.wait_for(1)[0].message["Subject"] == "Prueba"
