"""API tokens: one's own (everyone with TOKENS_OWN), or everyone's with their owners (admins
with TOKENS_MANAGE). A new token's secret is rendered once and never again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import accounts
from civicshield.accounts import Permission, TokenCreate, TokenRead
from civicshield.core.errors import Invalid
from civicshield.core.i18n import N_
from civicshield.web.deps import require
from civicshield.web.forms import PAGE_SIZE, Pager, domain_errors, offset_param, schema_errors
from civicshield.web.page import Page

__all__ = ["router"]

router = APIRouter()
TokensPage = Annotated[Page, Depends(require(Permission.TOKENS_OWN))]
EXPIRY_CHOICES = ("7", "30", "90", "365", "never")
TOKEN_FIELD_MESSAGES = {
    "name": N_("Give the token a name of 1 to 100 characters."),
    "scopes": N_("Choose at least one scope."),
    "expires_in_days": N_("Choose when the token expires."),
    "*": N_("Check this value."),
}


def _owners(page: Page, tokens: list[TokenRead]) -> dict[int, str]:
    if not page.can(Permission.TOKENS_MANAGE):
        return {}
    with page.runtime.session() as session:
        return {
            uid: accounts.get_user(session, uid).username for uid in {t.user_id for t in tokens}
        }


def _list(
    page: Page,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    offset = offset_param(page)
    owner = None if page.can(Permission.TOKENS_MANAGE) else page.user.user_id
    with page.runtime.session() as session:
        result = accounts.list_tokens(session, owner_id=owner, limit=PAGE_SIZE, offset=offset)
    return page.render(
        "tokens/list.html",
        status=status,
        nav_key="tokens",
        tokens=result.items,
        owners=_owners(page, result.items),
        pager=Pager.of(page, result.total, offset),
        scopes=[p for p in Permission if p in page.user.permissions],
        expiry_choices=EXPIRY_CHOICES,
        values=values or {"name": "", "scopes": [], "expires": "90"},
        errors=errors or {},
    )


@router.get("/tokens")
def token_list(page: TokensPage) -> Response:
    return _list(page)


@router.post("/tokens")
def create_token(page: TokensPage) -> Response:
    values = {
        "name": page.field("name"),
        "scopes": page.fields("scopes"),
        "expires": page.field("expires", "90"),
    }
    # Only the principal's own permissions are offered; anything else posted is refused here.
    allowed = {p.value for p in page.user.permissions}
    if not set(values["scopes"]) <= allowed:
        errors = {"scopes": page.gettext(N_("Choose only scopes your role allows."))}
        return _list(page, values=values, errors=errors, status=422)
    try:
        data = TokenCreate(
            name=values["name"],
            scopes=values["scopes"],
            expires_in_days=None if values["expires"] == "never" else values["expires"],
        )
    except ValidationError as exc:
        errors = schema_errors(page, exc, TOKEN_FIELD_MESSAGES)
        return _list(page, values=values, errors=errors, status=422)
    try:
        with page.runtime.session() as session:
            created = accounts.create_token(
                session,
                data,
                owner_id=page.user.user_id,
                actor=page.actor,
                clock=page.runtime.clock,
            )
    except Invalid as exc:
        return _list(page, values=values, errors=domain_errors(page, exc, "scopes"), status=422)
    return page.render("tokens/created.html", nav_key="tokens", token=created)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, page: TokensPage) -> Response:
    with page.runtime.session() as session:
        token = accounts.revoke_token(
            session, token_id, actor=page.actor, clock=page.runtime.clock, principal=page.user
        )
    if page.htmx:
        return page.fragment("tokens/_row.html", token=token, owners=_owners(page, [token]))
    return page.redirect("/tokens", flash="token_revoked")
