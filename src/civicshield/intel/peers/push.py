"""Pushing objects to a peer's collection (TAXII "add objects"), then reading the status:
`complete`, or `pending` polled a few times until a deadline. Only delivery: what may be
sent is the sharing policy's decision, made before this is called."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from civicshield.core.errors import ExternalServiceError, NotFound
from civicshield.core.settings import Settings
from civicshield.intel.models import IntelSubscription
from civicshield.intel.peers.client import open_link, taxii_call
from civicshield.intel.peers.schemas import PushResult
from civicshield.intel.peers.service import peer_auth
from civicshield.intel.peers.subscriptions import collection_url

__all__ = ["push_objects"]


def _fill(result: PushResult, status: Any) -> None:
    result.status_id = str(status.id or "")
    result.status = str(status.status or "")
    result.total_count = int(status.total_count or 0)
    result.success_count = int(status.success_count or 0)
    result.failure_count = int(status.failure_count or 0)
    result.pending_count = int(status.pending_count or 0)
    result.failures = [dict(f) for f in status.failures or []]


def push_objects(
    session: Session,
    subscription_id: int,
    objects: Sequence[dict[str, Any]],
    *,
    settings: Settings,
    now: datetime,
    polls: int = 5,
    poll_seconds: float = 1.0,
    backoff_factor: float = 0.5,
) -> PushResult:
    """Send `objects` (STIX 2.1 JSON) to the subscription's collection. Transport and TAXII
    failures do not raise: they are in `result.error` (status "failed") and on the
    subscription. A pending status is refreshed up to `polls` times, `poll_seconds` apart,
    and returned as it stands at the deadline."""
    sub = session.get(IntelSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    url = collection_url(sub.api_root_url, sub.collection_id)
    result = PushResult(subscription_id=sub.id)
    try:
        if not objects:
            raise ExternalServiceError(f"{url}: nothing to push")
        auth = peer_auth(session, sub.peer_id, settings=settings)
        with open_link(auth, settings, backoff_factor=backoff_factor) as link:
            col = link.collection(sub.api_root_url, sub.collection_id)
            taxii_call(url, col.refresh)
            if not col.can_write:
                raise ExternalServiceError(f"{url}: the peer does not let us write to it")
            envelope = {"objects": list(objects)}
            status = taxii_call(url, lambda: col.add_objects(envelope, wait_for_completion=False))
            # each poll may take up to the request timeout on top of its wait
            wait = polls * (poll_seconds + settings.intel_pull_timeout_seconds)
            deadline = time.monotonic() + wait
            for _ in range(polls):
                if status.status == "complete" or time.monotonic() > deadline:
                    break
                time.sleep(poll_seconds)  # the peer works on our add in the background
                taxii_call(url, status.refresh)
            _fill(result, status)
    except ExternalServiceError as exc:
        result.status, result.error = "failed", exc.detail
    sub.last_push_at = now
    sub.last_error = result.error
    session.flush()
    return result
