"""Idempotent HTTP ingest: a sender's `Idempotency-Key` and the answer its body got.

`claim` runs in the transaction that takes the body: it prunes expired receipts, returns the
stored answer of a finished request with the same key and body (the caller replays it and
stores nothing), refuses the same key with another body or dataset (422), and otherwise
inserts a pending receipt. The unique (sender, key) index serialises two requests racing with
one key: PostgreSQL holds the second insert until the first transaction ends, then the second
gets a 409 and its retry replays the first answer. `finish` stores the answer in the same
transaction, so a body that fails (503 queue full, 422) leaves no receipt behind.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicshield.core.errors import Conflict, Invalid
from civicshield.telemetry.models import IngestReceipt

__all__ = ["KEY_PATTERN", "claim", "digest", "finish"]

# RFC 9110 token-ish: visible ASCII, as the IETF Idempotency-Key draft allows (a UUID, say).
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")


class KeyReused(Invalid):
    title = "Idempotency key reused"
    slug = "idempotency-key-reused"


def digest(dataset: str, body: bytes) -> str:
    return hashlib.sha256(dataset.encode() + b"\n" + body).hexdigest()


def claim(
    session: Session,
    *,
    sender: str,
    key: str,
    dataset: str,
    body_sha256: str,
    now: datetime,
    keep: timedelta,
) -> IngestReceipt | dict[str, Any]:
    """The stored answer (a dict) to replay, or a new pending receipt to `finish`."""
    if not KEY_PATTERN.fullmatch(key):
        raise Invalid(
            "the Idempotency-Key header must be 1 to 255 visible ASCII characters "
            "(a UUID, for example)"
        )
    session.execute(delete(IngestReceipt).where(IngestReceipt.created_at < now - keep))
    found = session.scalar(
        select(IngestReceipt).where(IngestReceipt.sender == sender, IngestReceipt.key == key)
    )
    if found is not None:
        return _replay(found, dataset, body_sha256)
    receipt = IngestReceipt(
        sender=sender, key=key, dataset=dataset, body_sha256=body_sha256, created_at=now
    )
    try:
        with session.begin_nested():
            session.add(receipt)
    except IntegrityError:
        raise Conflict(
            f"a request with Idempotency-Key {key!r} is being taken right now; retry shortly "
            "to get its answer"
        ) from None
    return receipt


def finish(session: Session, receipt: IngestReceipt, response: dict[str, Any]) -> None:
    receipt.response = response
    session.flush()


def _replay(found: IngestReceipt, dataset: str, body_sha256: str) -> dict[str, Any]:
    if found.dataset != dataset or found.body_sha256 != body_sha256:
        raise KeyReused(
            f"Idempotency-Key {found.key!r} was used at {found.created_at.isoformat()} for "
            f"another body or dataset ({found.dataset}); use a new key for a new body"
        )
    if found.response is None:  # committed without an answer: cannot happen, but never replay it
        raise Conflict(f"the request with Idempotency-Key {found.key!r} has no answer yet")
    return found.response
