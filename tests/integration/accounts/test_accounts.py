"""Accounts use cases against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from civicshield import accounts, audit
from civicshield.accounts import Permission, TokenCreate, UserCreate, UserUpdate
from civicshield.core import (
    SYSTEM,
    AuthenticationError,
    Conflict,
    FrozenClock,
    Invalid,
    RateLimited,
    Role,
    Sector,
)
from civicshield.runtime import Runtime
from tests.conftest import PASSWORD, make_user, principal_of


def login(rt: Runtime, username: str, password: str = PASSWORD) -> accounts.LoginResult:
    with rt.session() as s:
        return accounts.authenticate(
            s,
            username=username,
            password=password,
            ip="10.1.1.1",
            clock=rt.clock,
            config=rt.accounts,
        )


def test_create_user_hashes_password_and_audits(runtime_any: Runtime) -> None:
    user = make_user(runtime_any, "ana.lopez", Role.ANALYST)
    assert user.role is Role.ANALYST and user.is_active
    with runtime_any.session() as s:
        entries = audit.list_entries(s, action="user.create").items
        assert entries[0].entity_id == str(user.id)
        assert "password" not in str(entries[0].changes).lower()
    assert login(runtime_any, "ANA.LOPEZ ").user_id == user.id  # case and spaces forgiven


def test_duplicate_username_conflicts(runtime: Runtime) -> None:
    make_user(runtime, "raul")
    with pytest.raises(Conflict, match="already exists"):
        make_user(runtime, "raul")


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1A", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "different characters"),
        ("my-raul-password-1", "username"),
    ],
)
def test_weak_passwords_refused(runtime: Runtime, password: str, why: str) -> None:
    with pytest.raises(accounts.WeakPassword, match=why) as info:
        make_user(runtime, "raul", password=password)
    assert info.value.errors[0].loc == ("body", "password")


def test_sector_operator_needs_sectors_and_others_none(runtime: Runtime) -> None:
    with pytest.raises(Invalid, match="at least one sector"):
        make_user(runtime, "agua", Role.SECTOR_OPERATOR)
    with pytest.raises(Invalid, match="only sector operators"):
        make_user(runtime, "ana", Role.ANALYST, sectors=[Sector.WATER])
    op = make_user(runtime, "agua", Role.SECTOR_OPERATOR, sectors=[Sector.WATER, Sector.ENERGY])
    p = principal_of(runtime, op.id)
    assert p.sees_sector(Sector.WATER) and not p.sees_sector(Sector.HEALTH)
    assert not p.can(Permission.USERS_READ)


def test_wrong_password_counts_and_locks(runtime_any: Runtime, clock: FrozenClock) -> None:
    make_user(runtime_any, "ana")
    for _ in range(runtime_any.settings.login_max_failures):
        with pytest.raises(AuthenticationError, match="invalid username or password"):
            login(runtime_any, "ana", "Wrong-password-123")
    with pytest.raises(RateLimited) as locked:  # even the right password is refused now
        login(runtime_any, "ana")
    assert locked.value.retry_after > 0
    clock.advance(timedelta(minutes=runtime_any.settings.login_lockout_minutes, seconds=1))
    assert login(runtime_any, "ana").username == "ana"
    with runtime_any.session() as s:
        actions = [e.action for e in audit.list_entries(s, limit=100).items]
    assert actions.count("auth.login_failed") == runtime_any.settings.login_max_failures


def test_unknown_and_disabled_users_get_the_same_message(runtime: Runtime) -> None:
    admin = make_user(runtime, "admin", Role.ADMIN)
    user = make_user(runtime, "gone")
    with runtime.session() as s:
        accounts.set_active(s, user.id, False, actor=SYSTEM, clock=runtime.clock)
    for name in ("nobody", "gone"):
        with pytest.raises(AuthenticationError, match="invalid username or password"):
            login(runtime, name)
    assert admin.id != user.id


def test_session_lifecycle(runtime: Runtime, clock: FrozenClock) -> None:
    user = make_user(runtime, "ana")
    with runtime.session() as s:
        info = accounts.start_session(
            s,
            user_id=user.id,
            pending_totp=False,
            ip=None,
            user_agent="pytest",
            clock=clock,
            config=runtime.accounts,
        )
    assert info.principal is not None and info.principal.username == "ana"

    def resolve() -> accounts.SessionInfo | None:
        with runtime.session() as s:
            return accounts.resolve_session(
                s, info.token, ip=None, clock=clock, config=runtime.accounts
            )

    assert resolve() is not None
    clock.advance(runtime.accounts.session_idle - timedelta(seconds=5))
    assert resolve() is not None  # activity keeps it alive
    clock.advance(runtime.accounts.session_idle + timedelta(seconds=1))
    assert resolve() is None  # idle too long


def test_role_change_ends_sessions_and_tokens(runtime: Runtime, clock: FrozenClock) -> None:
    admin = make_user(runtime, "admin", Role.ADMIN)
    user = make_user(runtime, "ana")
    with runtime.session() as s:
        info = accounts.start_session(
            s,
            user_id=user.id,
            pending_totp=False,
            ip=None,
            user_agent="",
            clock=clock,
            config=runtime.accounts,
        )
        token = accounts.create_token(
            s,
            TokenCreate(name="t", scopes=[Permission.DASHBOARD_VIEW]),
            owner_id=user.id,
            actor=SYSTEM,
            clock=clock,
        )
    actor = principal_of(runtime, admin.id).actor
    with runtime.session() as s:
        accounts.update_user(s, user.id, UserUpdate(role=Role.VIEWER), actor=actor, clock=clock)
    with runtime.session() as s:
        assert (
            accounts.resolve_session(s, info.token, ip=None, clock=clock, config=runtime.accounts)
            is None
        )
        assert accounts.principal_for_token(s, token.token, ip=None, clock=clock) is None
    with runtime.session() as s, pytest.raises(Conflict, match="your own role"):
        accounts.update_user(s, admin.id, UserUpdate(role=Role.VIEWER), actor=actor, clock=clock)


def test_totp_enrolment_login_and_replay(runtime_any: Runtime, clock: FrozenClock) -> None:
    rt = runtime_any
    user = make_user(rt, "admin", Role.ADMIN)
    with rt.session() as s:
        enrol = accounts.begin_totp(s, user.id, config=rt.accounts)
    assert enrol.uri.startswith("otpauth://totp/") and "<svg" in enrol.qr_svg
    code = pyotp.TOTP(enrol.secret).at(clock.now())
    with rt.session() as s, pytest.raises(Invalid):
        accounts.confirm_totp(
            s, user.id, secret=enrol.secret, code="000000", actor=SYSTEM, clock=clock
        )
    with rt.session() as s:
        accounts.confirm_totp(s, user.id, secret=enrol.secret, code=code, actor=SYSTEM, clock=clock)
    result = login(rt, "admin")
    assert result.needs_totp
    with rt.session() as s:
        pending = accounts.start_session(
            s,
            user_id=user.id,
            pending_totp=True,
            ip=None,
            user_agent="",
            clock=clock,
            config=rt.accounts,
        )
    assert pending.principal is None  # no access between the two steps
    with rt.session() as s, pytest.raises(AuthenticationError):  # the enrolment code is spent
        accounts.complete_totp_login(
            s,
            token=pending.token,
            code=code,
            ip=None,
            user_agent="",
            clock=clock,
            config=rt.accounts,
        )
    clock.advance(timedelta(seconds=30))
    fresh = pyotp.TOTP(enrol.secret).at(clock.now())
    with rt.session() as s:
        full = accounts.complete_totp_login(
            s,
            token=pending.token,
            code=fresh,
            ip=None,
            user_agent="",
            clock=clock,
            config=rt.accounts,
        )
    assert full.principal is not None and full.principal.totp_enabled


def test_tokens_are_hashed_scoped_expiring_and_revocable(
    runtime_any: Runtime, clock: FrozenClock
) -> None:
    rt = runtime_any
    user = make_user(rt, "ana", Role.ANALYST)
    with rt.session() as s, pytest.raises(Invalid, match="users:manage"):
        accounts.create_token(
            s,
            TokenCreate(name="x", scopes=[Permission.USERS_MANAGE]),
            owner_id=user.id,
            actor=SYSTEM,
            clock=clock,
        )
    with rt.session() as s:
        created = accounts.create_token(
            s,
            TokenCreate(name="siem", scopes=[Permission.AUDIT_READ], expires_in_days=1),
            owner_id=user.id,
            actor=SYSTEM,
            clock=clock,
        )
    assert created.token.startswith(f"cs_{created.prefix}_")
    with rt.session() as s:
        p = accounts.principal_for_token(s, created.token, ip=None, clock=clock)
        assert p is not None and p.permissions == frozenset({Permission.AUDIT_READ})
        assert accounts.principal_for_token(s, created.token + "x", ip=None, clock=clock) is None
    clock.advance(timedelta(days=1, seconds=1))
    with rt.session() as s:
        assert accounts.principal_for_token(s, created.token, ip=None, clock=clock) is None
        accounts.revoke_token(s, created.id, actor=SYSTEM, clock=clock)
    with rt.session() as s, pytest.raises(Conflict):
        accounts.revoke_token(s, created.id, actor=SYSTEM, clock=clock)


def test_reset_password_unlocks_and_forces_change(runtime: Runtime) -> None:
    user = make_user(runtime, "ana")
    with runtime.session() as s:
        new = accounts.reset_password(
            s, user.id, actor=SYSTEM, clock=runtime.clock, config=runtime.accounts
        )
    assert len(new) >= 12
    assert login(runtime, "ana", new).user_id == user.id
    with runtime.session() as s:
        assert accounts.get_user(s, user.id).must_change_password


def test_user_create_schema_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="lower-case"):
        UserCreate(username="Bad Name!", password=PASSWORD, role=Role.VIEWER)
    with pytest.raises(ValueError, match="time zone"):
        UserCreate(username="ok", password=PASSWORD, role=Role.VIEWER, timezone="Mars/Base")


def test_ip_limiter(clock: FrozenClock) -> None:
    limiter = accounts.SlidingWindowLimiter(3, timedelta(minutes=1), clock)
    for _ in range(3):
        limiter.hit("10.0.0.1")
    with pytest.raises(RateLimited):
        limiter.hit("10.0.0.1")
    limiter.hit("10.0.0.2")
    clock.advance(timedelta(minutes=1, seconds=1))
    limiter.hit("10.0.0.1")


def test_count_users_by_role(runtime_any: Runtime) -> None:
    make_user(runtime_any, "a1", Role.ANALYST)
    make_user(runtime_any, "a2", Role.ANALYST)
    gone = make_user(runtime_any, "a3", Role.ANALYST)
    make_user(runtime_any, "w1", Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    with runtime_any.session() as s:
        accounts.set_active(s, gone.id, False, actor=SYSTEM, clock=runtime_any.clock)
        counts = accounts.count_users_by_role(s)
        every = accounts.count_users_by_role(s, active_only=False)
    assert counts[Role.ANALYST] == 2 and every[Role.ANALYST] == 3
    assert counts[Role.SECTOR_OPERATOR] == 1 and counts[Role.ADMIN] == 0
    assert set(counts) == set(Role)


def test_own_totp_off_needs_password_admin_for_others_does_not(
    runtime: Runtime, clock: FrozenClock
) -> None:
    admin = make_user(runtime, "admin", Role.ADMIN)
    user = make_user(runtime, "ana")
    for who in (admin, user):
        with runtime.session() as s:
            enrol = accounts.begin_totp(s, who.id, config=runtime.accounts)
            code = pyotp.TOTP(enrol.secret).at(clock.now())
            accounts.confirm_totp(
                s, who.id, secret=enrol.secret, code=code, actor=SYSTEM, clock=clock
            )
    own = principal_of(runtime, user.id).actor
    with runtime.session() as s, pytest.raises(Invalid, match="current password"):
        accounts.disable_totp(
            s,
            user.id,
            actor=own,
            clock=clock,
            config=runtime.accounts,
            password="Wrong-password-123",
        )
    with runtime.session() as s:
        accounts.disable_totp(
            s, user.id, actor=own, clock=clock, config=runtime.accounts, password=PASSWORD
        )
        accounts.disable_totp(s, admin.id, actor=SYSTEM, clock=clock)  # not self: no password
        assert not accounts.get_user(s, admin.id).totp_enabled
