"""Outgoing mail over SMTP, configured by settings."""

from civicshield.mail.sender import MailConfig, Mailer, OutgoingMail

__all__ = ["MailConfig", "Mailer", "OutgoingMail"]
