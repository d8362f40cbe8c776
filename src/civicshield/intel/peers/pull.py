"""Pulling a subscribed collection: incremental by `added_after`, page by page (`next` /
`more`, through taxii2-client's `as_pages`), each object checked and stored through the
store's import path with provenance (peer, collection, the page's date_added range). A bad
object is refused with its reason, never the page; a failure part-way keeps the pages
already stored and the `added_after` they reached, and is recorded on the subscription and
its source."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from taxii2client.v21 import as_pages

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import ExternalServiceError, NotFound
from civicshield.core.settings import Settings
from civicshield.intel.models import IntelSource, IntelSubscription
from civicshield.intel.peers.client import Link, open_link, taxii_call
from civicshield.intel.peers.schemas import PullResult
from civicshield.intel.peers.service import load_peer, peer_auth
from civicshield.intel.peers.subscriptions import collection_url
from civicshield.intel.report import ImportReport
from civicshield.intel.stix_objects import StixRecord, read_object
from civicshield.intel.store import StoreContext, source_for, store_records
from civicshield.intel.warninglists_store import current_matcher

__all__ = ["due_subscriptions", "pull_subscription"]


def _later(a: str | None, b: str | None) -> str | None:
    """The later of two TAXII timestamps, kept as the server wrote it."""
    if not a or not b:
        return a or b
    return b if datetime.fromisoformat(b) > datetime.fromisoformat(a) else a


def _pages(url: str, link: Link, col: Any, added_after: str | None, size: int) -> Iterator[Any]:
    pages = iter(as_pages(col.get_objects, per_request=size, added_after=added_after))
    while True:
        try:
            envelope = taxii_call(url, lambda: next(pages))
        except StopIteration:
            return
        yield envelope, dict(link.last_headers)


def _records(objects: Any, page: int, report: ImportReport) -> list[StixRecord]:
    if not isinstance(objects, list):
        report.refuse(f"page {page}: $.objects", "not a list")
        return []
    records = []
    for index, obj in enumerate(objects):
        report.read += 1
        try:
            records.append(read_object(obj))
        except ValueError as exc:
            ident = str(obj.get("id", "")) if isinstance(obj, dict) else ""
            report.refuse(f"page {page}: $.objects[{index}]", str(exc), ident)
    return records


def pull_subscription(
    session: Session,
    subscription_id: int,
    *,
    settings: Settings,
    actor: Actor,
    clock: Clock,
    backoff_factor: float = 0.5,
    page_size: int | None = None,
) -> PullResult:
    """Pull what was added since the last pull. Never raises for the peer's failures: they
    are in the result and on the subscription (the caller commits either way)."""
    sub = session.get(IntelSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"no subscription with id {subscription_id}")
    peer = load_peer(session, sub.peer_id)
    url = collection_url(sub.api_root_url, sub.collection_id)
    source = session.get(IntelSource, sub.source_id) if sub.source_id else None
    if source is None:
        source = source_for(session, kind="taxii", name=peer.name, location=url, now=clock.now())
        sub.source_id = source.id
    before = source.state.get("added_after")
    result = PullResult(subscription_id=sub.id, ok=True, added_after_before=before)
    report = ImportReport(source=url)
    ctx = StoreContext(
        now=clock.now(),
        matcher=current_matcher(session),
        decay_days=settings.intel_decay_days or None,
    )
    size = page_size if page_size is not None else settings.taxii_page_size
    newest = before
    try:
        auth = peer_auth(session, peer.id, settings=settings)
        with open_link(auth, settings, backoff_factor=backoff_factor) as link:
            col = link.collection(sub.api_root_url, sub.collection_id)
            taxii_call(url, col.refresh)
            if not col.can_read:
                raise ExternalServiceError(f"{url}: the peer no longer lets us read it")
            for envelope, headers in _pages(url, link, col, before, size):
                result.pages += 1
                page = ImportReport(source=url)
                first = headers.get("x-taxii-date-added-first")
                last = headers.get("x-taxii-date-added-last")
                records = _records(envelope.get("objects", []), result.pages, page)
                detail = {
                    "peer": peer.name,
                    "peer_id": peer.id,
                    "subscription_id": sub.id,
                    "collection_url": url,
                    "date_added_first": first,
                    "date_added_last": last,
                }
                store_records(
                    session, records, source=source, report=page, ctx=ctx, provenance=detail
                )
                report.merge(page)
                newest = _later(newest, last)
                # progress is kept page by page: a later failure does not re-fetch these
                source.state = {**source.state, "added_after": newest}
                session.flush()
    except ExternalServiceError as exc:
        result.ok, result.error = False, exc.detail
    except ValueError as exc:  # e.g. a date header that is not a timestamp
        result.ok, result.error = False, f"{url}: {exc}"
    now = clock.now()
    result.read, result.new, result.new_versions = report.read, report.new, report.new_versions
    result.unchanged = report.unchanged
    result.refused = [
        {"path": r.path, "reason": r.reason, "stix_id": r.stix_id} for r in report.refused
    ]
    result.added_after = newest
    sub.last_pull_at = now
    sub.last_error = result.error
    source.last_import_at = now
    source.counts = {
        "pages": result.pages,
        "read": report.read,
        "stored": report.stored,
        "new": report.new,
        "new_versions": report.new_versions,
        "unchanged": report.unchanged,
        "not_matchable": report.not_matchable,
        "refused": len(report.refused),
    }
    refusals = "; ".join(f"{r.path}: {r.reason}" for r in report.refused[:5])
    source.last_error = "; ".join(x for x in (result.error, refusals) if x)[:2000]
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="intel.pull",
        entity_type="intel_subscription",
        entity_id=sub.id,
        clock=clock,
        summary=(
            f"pulled {url} from {peer.name}: {result.pages} pages, {report.read} read, "
            f"{report.stored} stored, {len(report.refused)} refused"
            + (f"; failed: {result.error}" if result.error else "")
        ),
        changes={"counts": source.counts, "added_after": newest},
    )
    return result


def due_subscriptions(session: Session, *, settings: Settings, now: datetime) -> list[int]:
    """The `pull` subscriptions not pulled for `intel_pull_minutes` (or never)."""
    period = settings.intel_pull_minutes * 60
    due = []
    for sub in session.scalars(select(IntelSubscription).where(IntelSubscription.pull.is_(True))):
        last = sub.last_pull_at
        if last is None or (now - last).total_seconds() >= period - 30:  # scheduler jitter
            due.append(sub.id)
    return sorted(due)
