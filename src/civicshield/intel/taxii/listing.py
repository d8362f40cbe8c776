"""Read models of the TAXII server's set-up: API roots, collections (with object counts)
and members (with their grants)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield.core.errors import NotFound
from civicshield.intel.taxii.models import (
    TaxiiApiRoot,
    TaxiiCollection,
    TaxiiEntry,
    TaxiiGrant,
    TaxiiMember,
)
from civicshield.intel.taxii.schemas import ApiRootRead, CollectionRead, MemberRead

__all__ = [
    "collection_read",
    "get_collection",
    "list_api_roots",
    "list_collections",
    "list_members",
    "member_read",
]


def collection_read(
    session: Session, collection: TaxiiCollection, root: TaxiiApiRoot
) -> CollectionRead:
    count = session.scalar(
        select(func.count(TaxiiEntry.id)).where(TaxiiEntry.collection_id == collection.id)
    )
    return CollectionRead(
        uuid=collection.uuid,
        title=collection.title,
        description=collection.description,
        api_root=root.slug,
        api_root_title=root.title,
        alias=collection.alias,
        topic=collection.topic,
        tlp=collection.tlp,
        multi_city=collection.multi_city,
        can_read=collection.can_read,
        can_write=collection.can_write,
        media_types=list(collection.media_types or []),
        object_count=count or 0,
    )


def list_collections(session: Session) -> list[CollectionRead]:
    rows = session.execute(
        select(TaxiiCollection, TaxiiApiRoot)
        .join(TaxiiApiRoot, TaxiiApiRoot.id == TaxiiCollection.api_root_id)
        .order_by(TaxiiApiRoot.slug, TaxiiCollection.id)
    ).all()
    return [collection_read(session, collection, root) for collection, root in rows]


def get_collection(session: Session, uuid: str) -> CollectionRead:
    collection = session.scalar(select(TaxiiCollection).where(TaxiiCollection.uuid == uuid))
    if collection is None:
        raise NotFound(f"no TAXII collection {uuid}")
    root = session.get(TaxiiApiRoot, collection.api_root_id)
    assert root is not None
    return collection_read(session, collection, root)


def list_api_roots(session: Session) -> list[ApiRootRead]:
    roots = session.scalars(select(TaxiiApiRoot).order_by(TaxiiApiRoot.id))
    return [ApiRootRead.model_validate(root) for root in roots]


def member_read(session: Session, member: TaxiiMember) -> MemberRead:
    slugs = {r.id: r.slug for r in session.scalars(select(TaxiiApiRoot))}
    grants = session.execute(
        select(TaxiiGrant, TaxiiCollection.uuid)
        .join(TaxiiCollection, TaxiiCollection.id == TaxiiGrant.collection_id)
        .where(TaxiiGrant.member_id == member.id)
    ).all()
    return MemberRead(
        id=member.id,
        username=member.username,
        city=member.city,
        api_roots=[slugs[i] for i in member.api_root_ids or [] if i in slugs],
        active=member.active,
        grants={uuid: {"can_read": g.can_read, "can_write": g.can_write} for g, uuid in grants},
    )


def list_members(session: Session) -> list[MemberRead]:
    members = session.scalars(select(TaxiiMember).order_by(TaxiiMember.username))
    return [member_read(session, m) for m in members]
