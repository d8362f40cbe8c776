"""API tokens for machines: shown once, stored hashed, scoped, expiring and revocable.

Format: `cs_<prefix>_<secret>`; the prefix identifies the token in lists and logs.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.accounts.models import ApiToken, User
from civicshield.accounts.permissions import Permission, permissions_for
from civicshield.accounts.principal import Principal
from civicshield.accounts.schemas import TokenCreate, TokenCreated, TokenPage, TokenRead
from civicshield.accounts.service.auth import principal_for_user
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Role
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound

__all__ = ["create_token", "get_token", "list_tokens", "principal_for_token", "revoke_token"]

TOKEN_PREFIX = "cs_"  # noqa: S105 - a public prefix, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session, data: TokenCreate, *, owner_id: int, actor: Actor, clock: Clock
) -> TokenCreated:
    owner = session.get(User, owner_id)
    if owner is None:
        raise NotFound(f"user {owner_id} does not exist")
    if not owner.is_active:
        raise Conflict(f"user {owner.username} is disabled")
    allowed = permissions_for(Role(owner.role))
    extra = sorted(s.value for s in data.scopes if s not in allowed)
    if extra:
        raise Invalid(
            f"scopes beyond what {owner.username}'s role allows: {', '.join(extra)}",
            [FieldError(("body", "scopes"), f"not allowed: {', '.join(extra)}")],
        )
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = clock.now()
    row = ApiToken(
        user_id=owner.id,
        name=data.name,
        prefix=prefix,
        token_hash=_digest(raw),
        scopes=sorted({s.value for s in data.scopes}),
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days) if data.expires_in_days else None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.create",
        entity_type="api_token",
        entity_id=row.id,
        clock=clock,
        summary=f"token {data.name!r} ({prefix}) for {owner.username}",
        changes={"scopes": row.scopes, "expires_at": row.expires_at},
    )
    return TokenCreated(token=raw, **TokenRead.model_validate(row).model_dump())


def get_token(session: Session, token_id: int) -> TokenRead:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API token {token_id} does not exist")
    return TokenRead.model_validate(row)


def list_tokens(
    session: Session,
    *,
    owner_id: int | None = None,
    include_revoked: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> TokenPage:
    query = select(ApiToken)
    if owner_id is not None:
        query = query.where(ApiToken.user_id == owner_id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(ApiToken.id.desc()).limit(limit).offset(offset)).scalars()
    return TokenPage(
        items=[TokenRead.model_validate(r) for r in rows], total=total, limit=limit, offset=offset
    )


def revoke_token(
    session: Session,
    token_id: int,
    *,
    actor: Actor,
    clock: Clock,
    principal: Principal | None = None,
) -> TokenRead:
    """Revoke a token. With a principal, non-managers may revoke only their own tokens."""
    row = session.get(ApiToken, token_id)
    if row is None or (
        principal is not None
        and row.user_id != principal.user_id
        and not principal.can(Permission.TOKENS_MANAGE)
    ):
        raise NotFound(f"API token {token_id} does not exist")
    if row.revoked_at is not None:
        raise Conflict(f"API token {token_id} is already revoked")
    row.revoked_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.revoke",
        entity_type="api_token",
        entity_id=row.id,
        clock=clock,
        summary=f"revoked token {row.name!r} ({row.prefix})",
    )
    return TokenRead.model_validate(row)


def principal_for_token(
    session: Session, raw: str, *, ip: str | None, clock: Clock
) -> Principal | None:
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(raw))
    ).scalar_one_or_none()
    now = clock.now()
    if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        session.flush()
    return principal_for_user(user, via="token", token_id=row.id, scopes=row.scopes, ip=ip)
