"""Logging in: passwords with lockout, browser sessions, TOTP two-factor, own password."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.accounts import _totp
from civicshield.accounts._passwords import (
    DUMMY_HASH_INPUT,
    check_policy,
    hash_password,
    verify_password,
)
from civicshield.accounts.config import AccountsConfig
from civicshield.accounts.errors import AccountLocked, BadCredentials
from civicshield.accounts.models import User, UserSession
from civicshield.accounts.permissions import permissions_for
from civicshield.accounts.principal import Principal
from civicshield.accounts.schemas import TotpEnrolment
from civicshield.accounts.service._lookup import load_user
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Role, Sector
from civicshield.core.errors import Conflict, FieldError, Invalid

__all__ = [
    "LoginResult",
    "SessionInfo",
    "authenticate",
    "begin_totp",
    "change_password",
    "complete_totp_login",
    "confirm_totp",
    "disable_totp",
    "end_session",
    "pending_user_id",
    "principal_for_user",
    "prune_sessions",
    "resolve_session",
    "start_session",
    "totp_enrolment_for",
]


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    username: str
    needs_totp: bool
    must_enrol_totp: bool


@dataclass(frozen=True)
class SessionInfo:
    token: str  # the raw cookie value; only its hash is stored
    csrf_token: str
    pending_totp: bool
    principal: Principal | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def principal_for_user(
    user: User,
    *,
    via: str = "session",
    token_id: int | None = None,
    scopes: list[str] | None = None,
    ip: str | None = None,
) -> Principal:
    from civicshield.accounts.permissions import Permission

    role = Role(user.role)
    granted = permissions_for(role)
    if scopes is not None:
        granted = granted & frozenset(
            Permission(s) for s in scopes if s in Permission._value2member_map_
        )
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name or user.username,
        role=role,
        sectors=frozenset(Sector(s) for s in user.sectors),
        permissions=granted,
        via=via,
        token_id=token_id,
        language=user.language,
        timezone=user.timezone,
        theme=user.theme,
        totp_enabled=user.totp_enabled,
        must_change_password=user.must_change_password,
        ip=ip,
    )


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    ip: str | None,
    clock: Clock,
    config: AccountsConfig,
) -> LoginResult:
    """Check a password. Failures count towards a lockout; messages never reveal which part
    was wrong or whether the user exists."""
    now = clock.now()
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    actor = Actor(kind="user", name=username.strip().lower()[:64] or "?", ip=ip)
    if user is None or not user.is_active:
        verify_password(config.hasher, hash_password(config.hasher, DUMMY_HASH_INPUT), password)
        audit.record(
            session,
            actor=actor,
            action="auth.login_failed",
            entity_type="user",
            entity_id=user.id if user else "-",
            clock=clock,
            summary="login refused: unknown or disabled account",
        )
        raise BadCredentials()
    if user.locked_until is not None and user.locked_until > now:
        retry = int((user.locked_until - now).total_seconds()) + 1
        raise AccountLocked(
            f"too many failed logins; try again in {retry // 60 + 1} minute(s)", retry_after=retry
        )
    if not verify_password(config.hasher, user.password_hash, password):
        user.failed_logins += 1
        summary = f"wrong password ({user.failed_logins} in a row)"
        if user.failed_logins >= config.max_failures:
            user.locked_until = now + config.lockout
            summary += f"; locked until {user.locked_until.isoformat()}"
        audit.record(
            session,
            actor=actor.__class__(kind="user", name=user.username, user_id=user.id, ip=ip),
            action="auth.login_failed",
            entity_type="user",
            entity_id=user.id,
            clock=clock,
            summary=summary,
        )
        raise BadCredentials()
    if config.hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(config.hasher, password)
    user.failed_logins, user.locked_until = 0, None
    needs_totp = user.totp_enabled
    must_enrol = (
        not user.totp_enabled and config.require_admin_totp and user.role == Role.ADMIN.value
    )
    if not needs_totp:
        user.last_login_at = now
        audit.record(
            session,
            actor=Actor(kind="user", name=user.username, user_id=user.id, ip=ip),
            action="auth.login",
            entity_type="user",
            entity_id=user.id,
            clock=clock,
            summary="logged in with password",
        )
    session.flush()
    return LoginResult(
        user_id=user.id, username=user.username, needs_totp=needs_totp, must_enrol_totp=must_enrol
    )


def start_session(
    session: Session,
    *,
    user_id: int,
    pending_totp: bool,
    ip: str | None,
    user_agent: str,
    clock: Clock,
    config: AccountsConfig,
) -> SessionInfo:
    now = clock.now()
    raw = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=_digest(raw),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        pending_totp=pending_totp,
        ip=ip,
        user_agent=user_agent[:300],
        created_at=now,
        last_seen_at=now,
        expires_at=now + (timedelta(minutes=10) if pending_totp else config.session_lifetime),
    )
    session.add(row)
    session.flush()
    user = session.get(User, user_id)
    assert user is not None
    principal = None if pending_totp else principal_for_user(user, ip=ip)
    return SessionInfo(
        token=raw, csrf_token=row.csrf_token, pending_totp=pending_totp, principal=principal
    )


def resolve_session(
    session: Session, token: str, *, ip: str | None, clock: Clock, config: AccountsConfig
) -> SessionInfo | None:
    """The live session for a cookie value, or None if unknown, expired or idle too long."""
    if not token or len(token) > 200:
        return None
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None:
        return None
    now = clock.now()
    user = session.get(User, row.user_id)
    if (
        row.expires_at <= now
        or now - row.last_seen_at > config.session_idle
        or user is None
        or not user.is_active
    ):
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at > timedelta(minutes=1):
        row.last_seen_at = now
        session.flush()
    principal = None if row.pending_totp else principal_for_user(user, ip=ip)
    return SessionInfo(
        token=token, csrf_token=row.csrf_token, pending_totp=row.pending_totp, principal=principal
    )


def pending_user_id(session: Session, token: str) -> int | None:
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _digest(token))
    ).scalar_one_or_none()
    return row.user_id if row is not None and row.pending_totp else None


def end_session(session: Session, token: str, *, clock: Clock) -> None:
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is not None:
        user = session.get(User, row.user_id)
        session.delete(row)
        session.flush()
        if user is not None and not row.pending_totp:
            audit.record(
                session,
                actor=Actor(kind="user", name=user.username, user_id=user.id, ip=row.ip),
                action="auth.logout",
                entity_type="user",
                entity_id=user.id,
                clock=clock,
            )


def prune_sessions(session: Session, *, clock: Clock, config: AccountsConfig) -> int:
    now = clock.now()
    result = session.execute(
        delete(UserSession).where(
            (UserSession.expires_at <= now) | (UserSession.last_seen_at < now - config.session_idle)
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _verify_code(user: User, code: str, clock: Clock) -> bool:
    if not user.totp_secret:
        return False
    step = _totp.matching_step(user.totp_secret, code, clock.now())
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False  # wrong, or a replay of an already used code
    user.totp_last_step = step
    return True


def complete_totp_login(
    session: Session,
    *,
    token: str,
    code: str,
    ip: str | None,
    user_agent: str,
    clock: Clock,
    config: AccountsConfig,
) -> SessionInfo:
    """Second step of login: a valid code swaps the pending session for a full one."""
    row = session.execute(
        select(UserSession).where(UserSession.token_hash == _digest(token))
    ).scalar_one_or_none()
    if row is None or not row.pending_totp or row.expires_at <= clock.now():
        raise BadCredentials("your login expired; sign in again")
    user = session.get(User, row.user_id)
    assert user is not None
    actor = Actor(kind="user", name=user.username, user_id=user.id, ip=ip)
    if user.locked_until is not None and user.locked_until > clock.now():
        retry = int((user.locked_until - clock.now()).total_seconds()) + 1
        raise AccountLocked("too many failed attempts; try again later", retry_after=retry)
    if not _verify_code(user, code, clock):
        user.failed_logins += 1
        if user.failed_logins >= config.max_failures:
            user.locked_until = clock.now() + config.lockout
            session.delete(row)
        audit.record(
            session,
            actor=actor,
            action="auth.totp_failed",
            entity_type="user",
            entity_id=user.id,
            clock=clock,
            summary="wrong two-factor code",
        )
        session.flush()
        raise BadCredentials("invalid code")
    session.delete(row)
    user.failed_logins, user.last_login_at = 0, clock.now()
    audit.record(
        session,
        actor=actor,
        action="auth.login",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary="logged in with password and two-factor code",
    )
    session.flush()
    return start_session(
        session,
        user_id=user.id,
        pending_totp=False,
        ip=ip,
        user_agent=user_agent,
        clock=clock,
        config=config,
    )


def begin_totp(session: Session, user_id: int, *, config: AccountsConfig) -> TotpEnrolment:
    """A fresh secret to show the user; nothing is stored until `confirm_totp`."""
    return totp_enrolment_for(session, user_id, secret=_totp.new_secret(), config=config)


def totp_enrolment_for(
    session: Session, user_id: int, *, secret: str, config: AccountsConfig
) -> TotpEnrolment:
    """The enrolment (URI and QR code) for a pending secret, e.g. to show it again after a
    mistyped code."""
    user = load_user(session, user_id)
    uri = _totp.provisioning_uri(secret, account=user.username, issuer=config.issuer)
    return TotpEnrolment(secret=secret, uri=uri, qr_svg=_totp.qr_svg(uri))


def confirm_totp(
    session: Session, user_id: int, *, secret: str, code: str, actor: Actor, clock: Clock
) -> None:
    user = load_user(session, user_id)
    step = _totp.matching_step(secret, code, clock.now())
    if step is None:
        raise Invalid(
            "the code does not match; check your device's clock and try again",
            [FieldError(("body", "code"), "code does not match")],
        )
    user.totp_secret, user.totp_enabled, user.totp_last_step = secret, True, step
    user.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.totp_enabled",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary=f"two-factor enabled for {user.username}",
    )


def disable_totp(
    session: Session,
    user_id: int,
    *,
    actor: Actor,
    clock: Clock,
    config: AccountsConfig | None = None,
    password: str | None = None,
) -> None:
    """Turn two-factor login off. Users turning off their own must confirm their password (a
    stolen session alone must not weaken the account); administrators do it for others."""
    user = load_user(session, user_id)
    if actor.user_id == user.id and (
        config is None
        or password is None
        or not verify_password(config.hasher, user.password_hash, password)
    ):
        raise Invalid(
            "confirm with your current password to turn off your own two-factor login",
            [FieldError(("body", "password"), "wrong or missing password")],
        )
    if not user.totp_enabled:
        raise Conflict("two-factor login is not enabled for this user")
    user.totp_secret, user.totp_enabled, user.totp_last_step = None, False, None
    user.updated_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.totp_disabled",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary=f"two-factor disabled for {user.username}",
    )


def change_password(
    session: Session,
    user_id: int,
    *,
    current: str,
    new: str,
    actor: Actor,
    clock: Clock,
    config: AccountsConfig,
    keep_session: str | None = None,
) -> None:
    """Change one's own password; other sessions of the user end."""
    user = load_user(session, user_id)
    if not verify_password(config.hasher, user.password_hash, current):
        raise Invalid(
            "the current password is wrong",
            [FieldError(("body", "current_password"), "wrong password")],
        )
    check_policy(new, username=user.username)
    user.password_hash = hash_password(config.hasher, new)
    user.must_change_password, user.updated_at = False, clock.now()
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_session:
        query = query.where(UserSession.token_hash != _digest(keep_session))
    session.execute(query)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.change_password",
        entity_type="user",
        entity_id=user.id,
        clock=clock,
        summary=f"{user.username} changed password",
    )
