"""`/api/v1/tokens`: API tokens. Everyone with tokens:own manages their own; tokens:manage
reaches everyone's. Other users' tokens are invisible (404) to non-managers.

A token never grants more than its creator holds: scopes beyond the caller's own permissions
are refused (403), and the accounts service refuses scopes beyond the owner's role (422).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from civicshield import accounts
from civicshield.accounts import Permission, Principal, TokenCreated, TokenRead
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page, TokenCreateRequest
from civicshield.core.errors import NotFound, PermissionDenied

__all__ = ["router"]

router = resource_router("/tokens", "tokens")
OWN = [Depends(require(Permission.TOKENS_OWN))]


def _require_manage(principal: Principal, what: str) -> None:
    if not principal.can(Permission.TOKENS_MANAGE):
        raise PermissionDenied(f"{what} needs {Permission.TOKENS_MANAGE.value}")


def _visible(principal: Principal, token: TokenRead) -> TokenRead:
    if token.user_id != principal.user_id and not principal.can(Permission.TOKENS_MANAGE):
        raise NotFound(f"API token {token.id} does not exist")
    return token


@router.get("", dependencies=OWN, summary="List API tokens (your own by default)")
def list_tokens(
    principal: PrincipalDep,
    session: SessionDep,
    pagination: PaginationDep,
    user_id: Annotated[
        int | None, Query(description="Tokens of this user (others' need tokens:manage).")
    ] = None,
    all_: Annotated[
        bool, Query(alias="all", description="Everyone's tokens (needs tokens:manage).")
    ] = False,
    include_revoked: Annotated[bool, Query(description="Also list revoked tokens.")] = False,
) -> Page[TokenRead]:
    """Newest first. `user_id` wins over `all`. The secret part of a token is never listed."""
    if all_ and user_id is None:
        _require_manage(principal, "listing everyone's tokens")
        owner = None
    else:
        owner = principal.user_id if user_id is None else user_id
        if owner != principal.user_id:
            _require_manage(principal, "listing another user's tokens")
    result = accounts.list_tokens(
        session,
        owner_id=owner,
        include_revoked=include_revoked,
        limit=pagination.limit,
        offset=pagination.offset,
    )
    return pagination.page(result.items, result.total)


@router.post(
    "",
    dependencies=OWN,
    status_code=201,
    responses=problems(404, 409),
    summary="Create an API token (the secret is shown only in this response)",
)
def create_token(
    data: TokenCreateRequest,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> TokenCreated:
    """`token` in the response is the only time the secret is shown; store it now. A token
    expires after `expires_in_days` (default 90; null: never)."""
    owner = principal.user_id if data.user_id is None else data.user_id
    if owner != principal.user_id:
        _require_manage(principal, "creating a token for another user")
    beyond = sorted(scope.value for scope in set(data.scopes) if not principal.can(scope))
    if beyond:
        raise PermissionDenied(f"a token cannot grant what its creator lacks: {', '.join(beyond)}")
    created = accounts.create_token(
        session,
        accounts.TokenCreate.model_validate(data.model_dump(exclude={"user_id"})),
        owner_id=owner,
        actor=principal.actor,
        clock=runtime.clock,
    )
    response.headers["Location"] = str(request.url_for("get_token", token_id=created.id))
    return created


@router.get("/{token_id}", dependencies=OWN, responses=problems(404), summary="Get an API token")
def get_token(token_id: int, principal: PrincipalDep, session: SessionDep) -> TokenRead:
    return _visible(principal, accounts.get_token(session, token_id))


@router.delete(
    "/{token_id}",
    dependencies=OWN,
    responses=problems(404, 409),
    summary="Revoke an API token (it stops working at once)",
)
def revoke_token(
    token_id: int, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> TokenRead:
    """Returns the revoked token. Revoking it again is a 409 (nothing changes)."""
    return accounts.revoke_token(
        session, token_id, actor=principal.actor, clock=runtime.clock, principal=principal
    )
