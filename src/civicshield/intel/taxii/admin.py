"""Setting up the TAXII server: API roots, collections, members and grants (no permission
checks here: the CLI and API callers check theirs). Every change is audited."""

from __future__ import annotations

import re
import uuid as uuidlib
from datetime import datetime

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core import SYSTEM, Actor, Tlp
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.intel.taxii.listing import collection_read, member_read
from civicshield.intel.taxii.models import (
    TaxiiApiRoot,
    TaxiiCollection,
    TaxiiGrant,
    TaxiiMember,
)
from civicshield.intel.taxii.schemas import ApiRootRead, CollectionRead, MemberRead

__all__ = [
    "TAXII_VERSION",
    "collection_by_uuid",
    "create_api_root",
    "create_collection",
    "create_member",
    "set_grant",
]

TAXII_VERSION = "application/taxii+json;version=2.1"
DEFAULT_MEDIA_TYPES = ["application/stix+json;version=2.1"]
_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _audit(
    session: Session, actor: Actor, action: str, kind: str, ident: str, now: datetime, summary: str
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type=kind,
        entity_id=ident,
        clock=FrozenClock(now),
        summary=summary,
    )


def create_api_root(
    session: Session,
    slug: str,
    title: str,
    *,
    now: datetime,
    description: str = "",
    max_content_length: int = 10 * 1024 * 1024,
    is_default: bool = False,
    actor: Actor = SYSTEM,
) -> ApiRootRead:
    if not _SLUG.match(slug) or slug in ("collections", "status"):
        raise Invalid(
            f"API root name {slug!r} must be letters, digits, '.', '_' or '-'",
            [FieldError(("slug",), "bad API root name")],
        )
    if session.scalar(select(TaxiiApiRoot.id).where(TaxiiApiRoot.slug == slug)) is not None:
        raise Conflict(f"API root {slug!r} already exists")
    if is_default:
        for other in session.scalars(select(TaxiiApiRoot).where(TaxiiApiRoot.is_default)):
            other.is_default = False
    root = TaxiiApiRoot(
        slug=slug,
        title=title or slug,
        description=description,
        versions=[TAXII_VERSION],
        max_content_length=max_content_length,
        is_default=is_default,
        created_at=now,
    )
    session.add(root)
    session.flush()
    _audit(session, actor, "taxii.root.create", "taxii_api_root", slug, now, f"API root {slug}")
    return ApiRootRead.model_validate(root)


def _root(session: Session, slug: str) -> TaxiiApiRoot:
    root = session.scalar(select(TaxiiApiRoot).where(TaxiiApiRoot.slug == slug))
    if root is None:
        raise NotFound(f"no API root '{slug}'")
    return root


def create_collection(
    session: Session,
    api_root: str,
    title: str,
    *,
    now: datetime,
    uuid: str | None = None,
    description: str = "",
    alias: str | None = None,
    can_read: bool = True,
    can_write: bool = False,
    media_types: list[str] | None = None,
    topic: str = "",
    tlp: Tlp | None = None,
    multi_city: bool = True,
    actor: Actor = SYSTEM,
) -> CollectionRead:
    root = _root(session, api_root)
    ident = str(uuidlib.UUID(uuid)) if uuid else str(uuidlib.uuid4())
    if session.scalar(select(TaxiiCollection.id).where(TaxiiCollection.uuid == ident)):
        raise Conflict(f"collection {ident} already exists")
    if alias and session.scalar(
        select(TaxiiCollection.id).where(
            TaxiiCollection.api_root_id == root.id, TaxiiCollection.alias == alias
        )
    ):
        raise Conflict(f"alias {alias!r} is already used in API root {api_root!r}")
    collection = TaxiiCollection(
        uuid=ident,
        api_root_id=root.id,
        title=title,
        description=description,
        alias=alias,
        media_types=media_types or list(DEFAULT_MEDIA_TYPES),
        can_read=can_read,
        can_write=can_write,
        topic=topic,
        tlp=tlp.value if tlp else None,
        multi_city=multi_city,
        created_at=now,
    )
    session.add(collection)
    session.flush()
    _audit(
        session,
        actor,
        "taxii.collection.create",
        "taxii_collection",
        ident,
        now,
        f"collection {title!r} in {api_root}",
    )
    return collection_read(session, collection, root)


def create_member(
    session: Session,
    username: str,
    password: str,
    *,
    hasher: PasswordHasher,
    city: str,
    api_root_slugs: list[str],
    now: datetime,
    actor: Actor = SYSTEM,
) -> MemberRead:
    if not username or ":" in username or len(username) > 150:
        raise Invalid(f"member name {username!r} must be 1-150 characters without ':'")
    if not password:
        raise Invalid("a TAXII member needs a password")
    if session.scalar(select(TaxiiMember.id).where(TaxiiMember.username == username)):
        raise Conflict(f"TAXII member {username!r} already exists")
    root_ids = [_root(session, slug).id for slug in api_root_slugs]
    member = TaxiiMember(
        username=username,
        password_hash=hasher.hash(password),
        city=city,
        api_root_ids=root_ids,
        active=True,
        created_at=now,
    )
    session.add(member)
    session.flush()
    _audit(
        session,
        actor,
        "taxii.member.create",
        "taxii_member",
        username,
        now,
        f"member {username} ({city or 'no city'})",
    )
    return member_read(session, member)


def collection_by_uuid(session: Session, uuid: str) -> TaxiiCollection:
    collection = session.scalar(select(TaxiiCollection).where(TaxiiCollection.uuid == uuid))
    if collection is None:
        raise NotFound(f"no TAXII collection {uuid}")
    return collection


def set_grant(
    session: Session,
    member: str,
    collection_uuid: str,
    *,
    can_read: bool,
    can_write: bool,
    now: datetime,
    actor: Actor = SYSTEM,
) -> MemberRead:
    found = session.scalar(select(TaxiiMember).where(TaxiiMember.username == member))
    if found is None:
        raise NotFound(f"no TAXII member {member!r}")
    collection = collection_by_uuid(session, collection_uuid)
    grant = session.scalar(
        select(TaxiiGrant).where(
            TaxiiGrant.member_id == found.id, TaxiiGrant.collection_id == collection.id
        )
    )
    if grant is None:
        grant = TaxiiGrant(member_id=found.id, collection_id=collection.id)
        session.add(grant)
    grant.can_read, grant.can_write = can_read, can_write
    session.flush()
    _audit(
        session,
        actor,
        "taxii.grant.set",
        "taxii_member",
        member,
        now,
        f"{collection_uuid}: read={can_read} write={can_write}",
    )
    return member_read(session, found)
