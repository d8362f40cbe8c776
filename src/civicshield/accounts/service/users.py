"""User administration: create, list, change, disable, reset passwords, preferences."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.accounts._passwords import check_policy, generate_password, hash_password
from civicshield.accounts.config import AccountsConfig
from civicshield.accounts.models import ApiToken, User, UserSession
from civicshield.accounts.schemas import Preferences, UserCreate, UserPage, UserRead, UserUpdate
from civicshield.accounts.service._lookup import load_user
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Role, Sector
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound

__all__ = [
    "count_users",
    "count_users_by_role",
    "create_user",
    "get_user",
    "get_user_by_username",
    "list_users",
    "reset_password",
    "set_active",
    "update_preferences",
    "update_user",
]


def _check_sectors(role: Role, sectors: list[Sector]) -> list[str]:
    if role is Role.SECTOR_OPERATOR and not sectors:
        raise Invalid(
            "a sector operator needs at least one sector",
            [FieldError(("body", "sectors"), "choose at least one sector")],
        )
    if role is not Role.SECTOR_OPERATOR and sectors:
        raise Invalid(
            "only sector operators are scoped to sectors",
            [FieldError(("body", "sectors"), "leave empty for this role")],
        )
    return sorted({s.value for s in sectors})


def get_user(session: Session, user_id: int) -> UserRead:
    return UserRead.model_validate(load_user(session, user_id))


def get_user_by_username(session: Session, username: str) -> UserRead:
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"user {username!r} does not exist")
    return UserRead.model_validate(user)


def count_users(session: Session) -> int:
    return session.execute(select(func.count()).select_from(User)).scalar_one()


def count_users_by_role(session: Session, *, active_only: bool = True) -> dict[Role, int]:
    """How many (active) users each role has, every role present (one GROUP BY query)."""
    query = select(User.role, func.count()).group_by(User.role)
    if active_only:
        query = query.where(User.is_active.is_(True))
    counts = {Role(role): int(n) for role, n in session.execute(query)}
    return {role: counts.get(role, 0) for role in Role}


def create_user(
    session: Session, data: UserCreate, *, actor: Actor, clock: Clock, config: AccountsConfig
) -> UserRead:
    check_policy(data.password, username=data.username)
    sectors = _check_sectors(data.role, data.sectors)
    exists = session.execute(select(User.id).where(User.username == data.username)).first()
    if exists:
        raise Conflict(f"user {data.username!r} already exists")
    now = clock.now()
    user = User(
        username=data.username,
        email=data.email,
        display_name=data.display_name or data.username,
        password_hash=hash_password(config.hasher, data.password),
        role=data.role.value,
        sectors=sectors,
        is_active=True,
        language=data.language,
        timezone=data.timezone,
        theme="system",
        failed_logins=0,
        totp_enabled=False,
        must_change_password=False,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary=f"created user {user.username} ({data.role.value})",
        changes={
            "username": user.username,
            "role": user.role,
            "sectors": sectors,
            "email": user.email,
        },
    )
    return UserRead.model_validate(user)


def list_users(
    session: Session,
    *,
    q: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    limit: int = 50,
    offset: int = 0,
) -> UserPage:
    query = select(User)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(User.username).like(like),
                func.lower(User.display_name).like(like),
                func.lower(User.email).like(like),
            )
        )
    if role is not None:
        query = query.where(User.role == role.value)
    if active is not None:
        query = query.where(User.is_active == active)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(User.username).limit(limit).offset(offset)).scalars()
    return UserPage(
        items=[UserRead.model_validate(u) for u in rows], total=total, limit=limit, offset=offset
    )


def _revoke_credentials(session: Session, user_id: int, clock: Clock) -> None:
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def update_user(
    session: Session, user_id: int, data: UserUpdate, *, actor: Actor, clock: Clock
) -> UserRead:
    user = load_user(session, user_id)
    fields = data.model_dump(exclude_unset=True)
    if actor.user_id == user_id and (
        fields.get("role", Role(user.role)) != Role(user.role) or fields.get("is_active") is False
    ):
        raise Conflict("you cannot change your own role or disable yourself")
    role = Role(fields.get("role") or user.role)
    sectors_in = fields.get("sectors")
    sectors = [Sector(s) for s in (sectors_in if sectors_in is not None else user.sectors)]
    if role is not Role.SECTOR_OPERATOR and sectors_in is None:
        sectors = []
    changes: dict[str, Any] = {}
    new_values: dict[str, Any] = {
        "email": fields.get("email", user.email),
        "display_name": fields.get("display_name", user.display_name),
        "role": role.value,
        "sectors": _check_sectors(role, sectors),
        "is_active": fields.get("is_active", user.is_active),
    }
    for name, value in new_values.items():
        if value is not None and getattr(user, name) != value:
            changes[name] = [getattr(user, name), value]
            setattr(user, name, value)
    if not changes:
        return UserRead.model_validate(user)
    user.updated_at = clock.now()
    if "role" in changes or changes.get("is_active", [None, True])[1] is False:
        _revoke_credentials(session, user.id, clock)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary=f"changed user {user.username}",
        changes=changes,
    )
    return UserRead.model_validate(user)


def set_active(
    session: Session, user_id: int, active: bool, *, actor: Actor, clock: Clock
) -> UserRead:
    return update_user(session, user_id, UserUpdate(is_active=active), actor=actor, clock=clock)


def reset_password(
    session: Session,
    user_id: int,
    *,
    actor: Actor,
    clock: Clock,
    config: AccountsConfig,
    new_password: str | None = None,
    must_change: bool | None = None,
) -> str:
    """Set a new password (generated when not given), unlock, end sessions; return it.

    The user must change it at next login when someone else reset it, unless `must_change`
    says otherwise (the demo city adopts its shared demo password this way)."""
    user = load_user(session, user_id)
    password = new_password or generate_password(user.username)
    check_policy(password, username=user.username)
    user.password_hash = hash_password(config.hasher, password)
    user.must_change_password = actor.user_id != user.id if must_change is None else must_change
    user.failed_logins, user.locked_until, user.updated_at = 0, None, clock.now()
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.reset_password",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary=f"reset password of {user.username}",
    )
    return password


def update_preferences(
    session: Session, user_id: int, prefs: Preferences, *, actor: Actor, clock: Clock
) -> UserRead:
    user = load_user(session, user_id)
    changes = {}
    for name, value in prefs.model_dump(exclude_none=True).items():
        if getattr(user, name) != value:
            changes[name] = [getattr(user, name), value]
            setattr(user, name, value)
    if changes:
        user.updated_at = clock.now()
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="user.preferences",
            entity_type="user",
            entity_id=user.id,
            clock=clock,
            changes=changes,
            summary=f"{user.username} changed preferences",
        )
    return UserRead.model_validate(user)
