"""`civicshield mail test`: check the SMTP settings by sending one mail."""

from __future__ import annotations

import socket
from typing import Annotated

import typer
from pydantic import EmailStr, TypeAdapter, ValidationError

from civicshield.cli._common import JsonOption, cli_actor, emit_json, state, success
from civicshield.core import Invalid, utcnow

__all__ = ["mail_app"]

mail_app = typer.Typer(
    help="Outgoing mail (SMTP settings: CIVICSHIELD_SMTP_*).", no_args_is_help=True
)


@mail_app.command("test")
def send_test(
    ctx: typer.Context,
    to: Annotated[str, typer.Option("--to", help="Who receives the test mail.")],
    json_output: JsonOption = False,
) -> None:
    """Send a test mail through the configured SMTP server."""
    from civicshield.mail import OutgoingMail

    try:
        address = TypeAdapter(EmailStr).validate_python(to.strip())
    except ValidationError:
        raise Invalid(f"{to!r} is not an e-mail address") from None
    rt = state(ctx).runtime(migrated=False, connect=False)
    settings = rt.settings
    text = (
        f"This is a test mail from CivicShield ({settings.city_name}).\n\n"
        f"Sent at {utcnow():%Y-%m-%d %H:%M:%S} UTC by {cli_actor().label} on "
        f"{socket.gethostname()} through {settings.smtp_host}:{settings.smtp_port} "
        f"({settings.smtp_security.value}).\n\nIf you received it, mail works.\n"
    )
    message_id = rt.mailer.send(
        OutgoingMail(
            to=[address], subject=f"CivicShield test mail ({settings.city_name})", text=text
        )
    )
    if json_output:
        emit_json(
            {
                "to": address,
                "message_id": message_id,
                "server": f"{settings.smtp_host}:{settings.smtp_port}",
            }
        )
        return
    success(f"sent {message_id} to {address} via {settings.smtp_host}:{settings.smtp_port}")
