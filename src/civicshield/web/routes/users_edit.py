"""One user's page: details, edit (role, sectors, contact), enable/disable, password reset
(the new password is shown once, never stored in clear) and turning two-factor login off."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import accounts
from civicshield.accounts import Permission, UserRead, UserUpdate
from civicshield.core.enums import Role, Sector
from civicshield.core.errors import Conflict, Invalid
from civicshield.web.deps import require
from civicshield.web.forms import domain_errors, schema_errors
from civicshield.web.page import Page
from civicshield.web.routes.users import USER_FIELD_MESSAGES, user_form_values

__all__ = ["router"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.USERS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.USERS_MANAGE))]


def _values_of(user: UserRead) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email or "",
        "role": user.role.value,
        "sectors": [s.value for s in user.sectors],
    }


def _detail(
    page: Page,
    user: UserRead,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    new_password: str | None = None,
) -> Response:
    with page.runtime.session() as session:
        tokens = accounts.list_tokens(session, owner_id=user.id, limit=1).total
    return page.render(
        "users/detail.html",
        status=status,
        nav_key="users",
        user=user,
        values=values or _values_of(user),
        errors=errors or {},
        roles=list(Role),
        sectors=list(Sector),
        new_password=new_password,
        active_tokens=tokens,
        is_self=page.user.user_id == user.id,
    )


def _load(page: Page, user_id: int) -> UserRead:
    with page.runtime.session() as session:
        return accounts.get_user(session, user_id)


@router.get("/admin/users/{user_id}")
def user_detail(user_id: int, page: ReadPage) -> Response:
    return _detail(page, _load(page, user_id))


@router.post("/admin/users/{user_id}")
def update_user(user_id: int, page: ManagePage) -> Response:
    user = _load(page, user_id)
    values = {**user_form_values(page), "username": user.username}
    try:
        data = UserUpdate(
            display_name=values["display_name"],
            email=values["email"] or None,
            role=values["role"],
            sectors=values["sectors"],
        )
    except ValidationError as exc:
        errors = schema_errors(page, exc, USER_FIELD_MESSAGES)
        return _detail(page, user, values=values, errors=errors, status=422)
    try:
        with page.runtime.session() as session:
            accounts.update_user(session, user_id, data, actor=page.actor, clock=page.runtime.clock)
    except (Invalid, Conflict) as exc:
        errors = (
            domain_errors(page, exc)
            if isinstance(exc, Invalid)
            else {"role": page.gettext(exc.detail)}
        )
        return _detail(page, user, values=values, errors=errors, status=422)
    return page.redirect(f"/admin/users/{user_id}", flash="user_updated")


@router.post("/admin/users/{user_id}/active")
def set_active(user_id: int, page: ManagePage) -> Response:
    active = page.field("active") == "yes"
    with page.runtime.session() as session:
        accounts.set_active(session, user_id, active, actor=page.actor, clock=page.runtime.clock)
    return page.redirect(
        f"/admin/users/{user_id}", flash="user_enabled" if active else "user_disabled"
    )


@router.post("/admin/users/{user_id}/reset-password")
def reset_password(user_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        password = accounts.reset_password(
            session,
            user_id,
            actor=page.actor,
            clock=page.runtime.clock,
            config=page.runtime.accounts,
        )
    # Rendered, not redirected: the only time anyone sees this password.
    return _detail(page, _load(page, user_id), new_password=password)


@router.post("/admin/users/{user_id}/disable-totp")
def disable_totp(user_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        accounts.disable_totp(session, user_id, actor=page.actor, clock=page.runtime.clock)
    return page.redirect(f"/admin/users/{user_id}", flash="totp_disabled")
