"""Who is calling the TAXII server and what they may do.

Two kinds of caller: a TAXII member (HTTP Basic; a peer city's account) and a CivicShield
principal (API token) reduced to two flags by the HTTP layer: intel:manage reads and writes
every collection, intel:read reads every collection. A member gets each collection's
`can_read`/`can_write`, overridden by its own grant; a member limited to some API roots
sees no other root (404, not 403: the root's existence is not revealed).
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.core.errors import NotFound, PermissionDenied
from civicshield.intel.taxii.models import TaxiiApiRoot, TaxiiCollection, TaxiiGrant, TaxiiMember

__all__ = [
    "TaxiiCaller",
    "authenticate_member",
    "collection_rights",
    "principal_caller",
    "require_read",
    "require_write",
    "visible_root",
]

# Hashed when no such member exists, so the reply time does not reveal valid usernames.
_DUMMY = "civicshield-no-such-taxii-member"


@dataclass(frozen=True)
class TaxiiCaller:
    """`member_id` None: a CivicShield principal with `read_all`/`write_all`."""

    name: str
    member_id: int | None = None
    api_root_ids: tuple[int, ...] = ()
    read_all: bool = False
    write_all: bool = False

    @property
    def is_member(self) -> bool:
        return self.member_id is not None


def principal_caller(name: str, *, can_read: bool, can_write: bool) -> TaxiiCaller:
    return TaxiiCaller(name=name, read_all=can_read or can_write, write_all=can_write)


def authenticate_member(
    session: Session, username: str, password: str, *, hasher: PasswordHasher
) -> TaxiiCaller | None:
    """The member behind HTTP Basic credentials, or None (unknown, inactive, wrong password)."""
    member = session.scalar(select(TaxiiMember).where(TaxiiMember.username == username))
    stored = member.password_hash if member is not None else hasher.hash(_DUMMY)
    try:
        ok = bool(hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if member is None or not ok or not member.active:
        return None
    return TaxiiCaller(
        name=member.username, member_id=member.id, api_root_ids=tuple(member.api_root_ids or ())
    )


def visible_root(session: Session, caller: TaxiiCaller, slug: str) -> TaxiiApiRoot:
    """The API root `slug` if the caller may see it; NotFound otherwise."""
    root = session.scalar(select(TaxiiApiRoot).where(TaxiiApiRoot.slug == slug))
    if root is None or (caller.api_root_ids and root.id not in caller.api_root_ids):
        raise NotFound(f"no API root '{slug}'")
    return root


def collection_rights(
    session: Session, caller: TaxiiCaller, collection: TaxiiCollection
) -> tuple[bool, bool]:
    """(can_read, can_write) of `caller` on `collection`."""
    if not caller.is_member:
        return caller.read_all, caller.write_all
    grant = session.scalar(
        select(TaxiiGrant).where(
            TaxiiGrant.member_id == caller.member_id,
            TaxiiGrant.collection_id == collection.id,
        )
    )
    if grant is not None:
        return grant.can_read, grant.can_write
    return collection.can_read, collection.can_write


def require_read(session: Session, caller: TaxiiCaller, collection: TaxiiCollection) -> None:
    if not collection_rights(session, caller, collection)[0]:
        raise PermissionDenied(f"you may not read collection {collection.uuid}")


def require_write(session: Session, caller: TaxiiCaller, collection: TaxiiCollection) -> None:
    if not collection_rights(session, caller, collection)[1]:
        raise PermissionDenied(f"you may not write to collection {collection.uuid}")
