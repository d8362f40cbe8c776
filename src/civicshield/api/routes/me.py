"""`/api/v1/me`: who the caller is, and their own preferences."""

from __future__ import annotations

from fastapi import Depends

from civicshield import accounts
from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import resource_router
from civicshield.api.schemas import Me

__all__ = ["router"]

router = resource_router("/me", "me")


@router.get(
    "",
    dependencies=[Depends(require(Permission.PROFILE_SELF))],
    summary="The authenticated user and what this request may do",
)
def get_me(principal: PrincipalDep) -> Me:
    return Me.of(principal)


@router.patch(
    "",
    dependencies=[Depends(require(Permission.PROFILE_SELF))],
    summary="Change own language, time zone, theme or display name",
)
def update_me(
    prefs: accounts.Preferences,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Me:
    """Only the fields sent change (null or absent: unchanged). Audited as
    `user.preferences` when anything changed."""
    user = accounts.update_preferences(
        session, principal.user_id, prefs, actor=principal.actor, clock=runtime.clock
    )
    return Me.of(principal, user)
