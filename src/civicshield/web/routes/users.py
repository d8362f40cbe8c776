"""User administration: the list (search, filters, pages), the create form and the roles table.

The list's filter form works as a plain GET; with HTMX it swaps only the table fragment.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import accounts
from civicshield.accounts import ROLE_PERMISSIONS, Permission, UserCreate
from civicshield.core.enums import Role, Sector
from civicshield.core.errors import Conflict, Invalid
from civicshield.core.i18n import N_
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, domain_errors, offset_param, schema_errors
from civicshield.web.page import Page

__all__ = ["USER_FIELD_MESSAGES", "router", "user_form_values"]

router = APIRouter()
ReadPage = Annotated[Page, Depends(require(Permission.USERS_READ))]
ManagePage = Annotated[Page, Depends(require(Permission.USERS_MANAGE))]

USER_FIELD_MESSAGES = {
    "username": N_("Use 2 to 64 characters: lower-case letters, digits, '.', '_' or '-'."),
    "email": N_("Enter a valid email address, or leave it empty."),
    "display_name": N_("Use at most 200 characters."),
    "role": N_("Choose a role."),
    "sectors": N_("Choose sectors from the list."),
    "password": N_("Enter an initial password."),
    "*": N_("Check this value."),
}


def _filters(page: Page) -> dict[str, Any]:
    role = page.query("role")
    active = page.query("active")
    return {
        "q": page.query("q")[:100],
        "role": Role(role) if role in Role._value2member_map_ else None,
        "active": {"yes": True, "no": False}.get(active),
    }


@router.get("/admin/users")
def user_list(page: ReadPage) -> Response:
    filters, offset = _filters(page), offset_param(page)
    with page.runtime.session() as session:
        result = accounts.list_users(session, **filters, limit=PAGE_SIZE, offset=offset)
    values: dict[str, Any] = {
        "users": result.items,
        "pager": Pager.of(page, result.total, offset),
        "filters": filters,
        "roles": list(Role),
        "nav_key": "users",
    }
    if page.htmx and page.request.headers.get("hx-target") == "user-table":
        return page.fragment("users/_table.html", **values)
    return page.render("users/list.html", **values)


@router.get("/admin/roles")
def roles(page: ReadPage) -> Response:
    return page.render(
        "users/roles.html",
        nav_key="roles",
        roles=list(Role),
        permissions=list(Permission),
        granted=ROLE_PERMISSIONS,
    )


def user_form_values(page: Page) -> dict[str, Any]:
    """What the user typed, to show again next to the errors."""
    role = page.field("role")
    # Sector boxes are hidden for other roles; ticks left there must not block the save.
    sectors = page.fields("sectors") if role == Role.SECTOR_OPERATOR.value else []
    return {
        "username": page.field("username"),
        "display_name": page.field("display_name"),
        "email": page.field("email"),
        "role": role,
        "sectors": sectors,
    }


def _new_form(
    page: Page, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    return page.render(
        "users/new.html",
        status=status,
        nav_key="users",
        values=values,
        errors=errors,
        roles=list(Role),
        sectors=list(Sector),
    )


@router.get("/admin/users/new")
def new_user_form(page: ManagePage) -> Response:
    values = {
        "username": "",
        "display_name": "",
        "email": "",
        "role": Role.ANALYST.value,
        "sectors": [],
    }
    return _new_form(page, values, {})


@router.post("/admin/users/new")
def create_user(page: ManagePage) -> Response:
    values = user_form_values(page)
    settings = page.runtime.settings
    try:
        data = UserCreate(
            username=values["username"],
            display_name=values["display_name"],
            email=values["email"] or None,
            role=values["role"],
            sectors=values["sectors"],
            password=str(page.form.get("password") or ""),
            language=settings.default_language,
            timezone=settings.default_timezone,
        )
    except ValidationError as exc:
        return _new_form(page, values, schema_errors(page, exc, USER_FIELD_MESSAGES), 422)
    try:
        with page.runtime.session() as session:
            user = accounts.create_user(
                session,
                data,
                actor=page.actor,
                clock=page.runtime.clock,
                config=page.runtime.accounts,
            )
    except Conflict:
        errors = {"username": page.gettext(N_("This username is already taken."))}
        return _new_form(page, values, errors, 422)
    except Invalid as exc:
        return _new_form(page, values, domain_errors(page, exc), 422)
    return page.redirect(f"/admin/users/{user.id}", flash="user_created")
