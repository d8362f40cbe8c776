"""`/api/v1/users`: user administration (users:read to see, users:manage to change).

Every change is written to the audit log by the accounts service, with the caller as actor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Depends, Query, Request, Response

from civicshield import accounts
from civicshield.accounts import Permission, UserRead
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page, PasswordReset, PasswordResetResult
from civicshield.core import Role

__all__ = ["router"]

router = resource_router("/users", "users")
READ = [Depends(require(Permission.USERS_READ))]
MANAGE = [Depends(require(Permission.USERS_MANAGE))]


@router.get("", dependencies=READ, summary="List users")
def list_users(
    session: SessionDep,
    pagination: PaginationDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Part of the username, display name or e-mail."),
    ] = None,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
    active: Annotated[bool | None, Query(description="Only enabled (or disabled) users.")] = None,
) -> Page[UserRead]:
    """Sorted by username."""
    result = accounts.list_users(
        session, q=q, role=role, active=active, limit=pagination.limit, offset=pagination.offset
    )
    return pagination.page(result.items, result.total)


@router.post(
    "", dependencies=MANAGE, status_code=201, responses=problems(409), summary="Create a user"
)
def create_user(
    data: accounts.UserCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> UserRead:
    """201 with `Location`. 409 if the username exists; 422 for a weak password, or sectors
    on a role other than sector operator (who needs at least one)."""
    user = accounts.create_user(
        session, data, actor=principal.actor, clock=runtime.clock, config=runtime.accounts
    )
    response.headers["Location"] = str(request.url_for("get_user", user_id=user.id))
    return user


@router.get("/{user_id}", dependencies=READ, responses=problems(404), summary="Get a user")
def get_user(user_id: int, session: SessionDep) -> UserRead:
    return accounts.get_user(session, user_id)


@router.patch(
    "/{user_id}", dependencies=MANAGE, responses=problems(404, 409), summary="Change a user"
)
def update_user(
    user_id: int,
    data: accounts.UserUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> UserRead:
    """Only the fields sent change. A new role or disabling ends the user's sessions and
    revokes their API tokens. You cannot change your own role or disable yourself (409)."""
    return accounts.update_user(session, user_id, data, actor=principal.actor, clock=runtime.clock)


@router.post(
    "/{user_id}/disable",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Disable a user (ends sessions, revokes tokens)",
)
def disable_user(
    user_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> UserRead:
    """Idempotent: disabling a disabled user changes nothing."""
    return accounts.set_active(session, user_id, False, actor=principal.actor, clock=runtime.clock)


@router.post(
    "/{user_id}/enable",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Enable a disabled user",
)
def enable_user(
    user_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> UserRead:
    """Idempotent. Tokens revoked when the user was disabled stay revoked."""
    return accounts.set_active(session, user_id, True, actor=principal.actor, clock=runtime.clock)


@router.post(
    "/{user_id}/reset-password",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Set a new password (generated unless given); unlocks and ends sessions",
)
def reset_password(
    user_id: int,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    data: Annotated[PasswordReset | None, Body()] = None,
) -> PasswordResetResult:
    """The body is optional. A generated password is returned this once; the user must
    change it at the next login (unless you reset your own)."""
    chosen = data.password if data is not None else None
    password = accounts.reset_password(
        session,
        user_id,
        actor=principal.actor,
        clock=runtime.clock,
        config=runtime.accounts,
        new_password=chosen,
    )
    return PasswordResetResult(
        user_id=user_id, generated=chosen is None, password=None if chosen else password
    )


@router.delete(
    "/{user_id}/totp",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Turn off a user's two-factor login (e.g. a lost device)",
)
def disable_totp(
    user_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> UserRead:
    """409 when two-factor login is not enabled. Returns the user as it is now."""
    accounts.disable_totp(session, user_id, actor=principal.actor, clock=runtime.clock)
    return accounts.get_user(session, user_id)
