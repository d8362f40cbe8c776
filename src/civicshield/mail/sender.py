"""Send mail through the SMTP server named in settings (plain, STARTTLS or implicit TLS)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from civicshield.core.errors import ConfigError, ExternalServiceError, Invalid
from civicshield.core.settings import Settings, SmtpSecurity

__all__ = ["MailConfig", "Mailer", "OutgoingMail"]


@dataclass(frozen=True)
class MailConfig:
    host: str | None
    port: int
    security: SmtpSecurity
    username: str | None
    password: str | None
    sender: str
    timeout: float
    ssl_context: ssl.SSLContext | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MailConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            sender=settings.mail_from,
            timeout=settings.smtp_timeout_seconds,
        )


@dataclass(frozen=True)
class OutgoingMail:
    to: list[str]
    subject: str
    text: str
    html: str | None = None
    reply_to: str | None = None


class Mailer:
    def __init__(self, config: MailConfig) -> None:
        self.config = config

    def build(self, mail: OutgoingMail) -> EmailMessage:
        if not mail.to:
            raise Invalid("a mail needs at least one recipient")
        if any("\n" in v or "\r" in v for v in [mail.subject, *mail.to]):
            raise Invalid("line breaks are not allowed in mail headers")
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = ", ".join(mail.to)
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.config.sender.rpartition("@")[2] or None)
        if mail.reply_to:
            message["Reply-To"] = mail.reply_to
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        return message

    def send(self, mail: OutgoingMail) -> str:
        """Send one mail; return its Message-ID. Raises ExternalServiceError on SMTP failure."""
        cfg = self.config
        if not cfg.host:
            raise ConfigError("mail is not configured: set CIVICSHIELD_SMTP_HOST")
        message = self.build(mail)
        context = cfg.ssl_context or ssl.create_default_context()
        try:
            if cfg.security is SmtpSecurity.TLS:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout, context=context
                )
            else:
                client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            with client:
                client.ehlo()
                if cfg.security is SmtpSecurity.STARTTLS:
                    client.starttls(context=context)
                    client.ehlo()
                if cfg.username:
                    client.login(cfg.username, cfg.password or "")
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise ExternalServiceError(
                f"mail server {cfg.host}:{cfg.port} refused or failed: {exc}"
            ) from exc
        return str(message["Message-ID"])
