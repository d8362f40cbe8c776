"""Reading the publish queue: publications with their previews, the peer of a subscription,
and who a stored actor label names (an API token acts for its user)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.core.errors import NotFound
from civicshield.intel.models import IntelPeer, IntelPublication, IntelSubscription
from civicshield.intel.sharing.schemas import PublicationRead

__all__ = [
    "get_publication",
    "list_publications",
    "peer_of",
    "person",
    "publication_row",
    "read_publication",
]


def person(label: str) -> str:
    """Who acted, whatever the channel: an API token ("token:ana#4") is its user ("ana")."""
    return label.removeprefix("token:").partition("#")[0] if label.startswith("token:") else label


def publication_row(session: Session, publication_id: int) -> IntelPublication:
    row = session.get(IntelPublication, publication_id)
    if row is None:
        raise NotFound(f"publication {publication_id} does not exist")
    return row


def peer_of(session: Session, sub_id: int | None) -> tuple[IntelSubscription, IntelPeer]:
    sub = session.get(IntelSubscription, sub_id) if sub_id is not None else None
    peer = session.get(IntelPeer, sub.peer_id) if sub else None
    if sub is None or peer is None:
        raise NotFound(f"subscription {sub_id} does not exist")
    return sub, peer


def read_publication(
    session: Session, row: IntelPublication, *, full: bool = True
) -> PublicationRead:
    item = PublicationRead.model_validate(row)
    item.object_count = len(row.prepared.get("objects", []))
    if not full:
        item.prepared = {}
    if row.target_kind == "peer" and row.subscription_id:
        sub = session.get(IntelSubscription, row.subscription_id)
        peer = session.get(IntelPeer, sub.peer_id) if sub else None
        item.target_label = (
            f"{peer.name if peer else '?'}: {sub.title or sub.collection_id}" if sub else ""
        )
        item.multi_city = bool(sub and sub.multi_city)
    else:
        item.target_label = f"collection {row.collection_uuid}"
        item.multi_city = bool(row.result.get("target", {}).get("multi_city", True))
    return item


def list_publications(
    session: Session, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[PublicationRead], int]:
    where = [IntelPublication.status == status] if status else []
    total = session.scalar(select(func.count(IntelPublication.id)).where(*where)) or 0
    rows = session.scalars(
        select(IntelPublication)
        .where(*where)
        .order_by(IntelPublication.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [read_publication(session, r, full=False) for r in rows], total


def get_publication(session: Session, publication_id: int) -> PublicationRead:
    return read_publication(session, publication_row(session, publication_id))
