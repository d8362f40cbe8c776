"""Send mail in the background, with the job queue's retries when the server is down."""

from __future__ import annotations

from typing import Any

from civicshield.jobs import JobContext, JobDefinition
from civicshield.mail.sender import Mailer, OutgoingMail

__all__ = ["JOBS"]


def _send(ctx: JobContext) -> dict[str, Any]:
    mailer: Mailer = ctx.services["mailer"]
    args = ctx.args
    message_id = mailer.send(
        OutgoingMail(
            to=list(args["to"]),
            subject=str(args["subject"]),
            text=str(args["text"]),
            html=args.get("html"),
        )
    )
    ctx.log.info(f"sent {message_id} to {', '.join(args['to'])}")
    return {"message_id": message_id}


JOBS = [
    JobDefinition(
        name="mail.send",
        run=_send,
        max_attempts=5,
        backoff_seconds=60,
        description="Send one e-mail through the configured SMTP server.",
    )
]
