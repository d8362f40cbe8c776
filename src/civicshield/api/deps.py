"""Dependencies of the API routes: access declarations, typed aliases, pagination.

Every route declares its access with exactly one of

    dependencies=[Depends(require(Permission.USERS_READ))]   # authenticated + permission
    dependencies=[Depends(public())]                          # anyone

(both marked with `civicshield.http.Access`, so an architecture test can refuse a route that
has neither). Handlers then take what they need through the typed aliases:

    RuntimeDep      the `Runtime` the app was built with
    SessionDep      a database session; commits when the handler returns, before the response
                    is sent (rolls back on any error)
    PrincipalDep    the authenticated principal (already checked by `require`)
    PaginationDep   `limit`/`offset` query parameters and the builder of `Page` responses
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, TypeVar, cast

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.datastructures import URL

from civicshield import accounts
from civicshield.accounts import Permission, Principal
from civicshield.api.errors import CsrfFailed
from civicshield.api.schemas import Page
from civicshield.core.errors import AuthenticationError, PermissionDenied
from civicshield.http import PUBLIC, SESSION_COOKIE, Access, lookup_principal
from civicshield.runtime import Runtime

__all__ = [
    "CSRF_HEADER",
    "Pagination",
    "PaginationDep",
    "PrincipalDep",
    "RuntimeDep",
    "SessionDep",
    "bearer_scheme",
    "cookie_scheme",
    "current_principal",
    "public",
    "require",
]

T = TypeVar("T")
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

# Declared for the OpenAPI document (security schemes); `lookup_principal` does the work.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerToken",
    bearerFormat="cs_<prefix>_<secret>",
    description="An API token (`civicshield token create` or POST /api/v1/tokens).",
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="sessionCookie",
    description=f"The browser session of the web UI; writes also need the `{CSRF_HEADER}` "
    "header with the session's CSRF token.",
)


def get_runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.session() as session:
        yield session


# scope="function": the unit of work commits before the response is sent, so a failed commit
# becomes an error response instead of a lost write behind a 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _authenticate(request: Request, runtime: Runtime) -> Principal:
    principal = lookup_principal(request, runtime)
    if principal is not None:
        return principal
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        raise AuthenticationError("the API token is invalid, expired or revoked")
    raise AuthenticationError(
        "authentication required: send 'Authorization: Bearer <API token>' or sign in"
    )


def current_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """The principal behind the request (resolved once per request); 401 when anonymous."""
    return _authenticate(request, runtime)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def _check_csrf(request: Request, principal: Principal) -> None:
    if principal.via != "session" or request.method in SAFE_METHODS:
        return
    expected = str(request.scope.get("civicshield.csrf") or "")
    given = request.headers.get(CSRF_HEADER, "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise CsrfFailed(
            f"a signed-in browser must send the session's CSRF token in the {CSRF_HEADER} "
            "header to change anything (API tokens need no CSRF header)"
        )


def _refusal(principal: Principal, permission: Permission) -> PermissionDenied:
    if principal.via == "token" and permission in accounts.permissions_for(principal.role):
        return PermissionDenied(f"this API token's scopes do not include {permission.value}")
    return PermissionDenied(
        f"your role ({principal.role.value}) may not do this (needs {permission.value})"
    )


@functools.cache
def require(permission: Permission) -> Callable[..., Principal]:
    """Access declaration: an authenticated principal holding `permission` (401 / 403 else);
    browser sessions must also pass the CSRF check on unsafe methods."""

    def dependency(
        request: Request,
        runtime: RuntimeDep,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
        _cookie: Annotated[str | None, Security(cookie_scheme)],
    ) -> Principal:
        principal = _authenticate(request, runtime)
        if not principal.can(permission):
            raise _refusal(principal, permission)
        _check_csrf(request, principal)
        return principal

    dependency.__name__ = dependency.__qualname__ = f"require_{permission.name.lower()}"
    Access.mark(dependency, permission)
    return dependency


def _public() -> None:
    """Access declaration: anyone, signed in or not."""


Access.mark(_public, PUBLIC)


def public() -> Callable[[], None]:
    return _public


@dataclass(frozen=True)
class Pagination:
    """`limit` (1-200, default 50) and `offset` (>= 0) of a list request; builds its `Page`."""

    limit: int
    offset: int
    url: URL

    def page(self, items: Sequence[T], total: int) -> Page[T]:
        following = None
        if self.offset + self.limit < total:
            following = str(
                self.url.include_query_params(limit=self.limit, offset=self.offset + self.limit)
            )
        # Not `Page[T](...)`: parametrising a generic model at run time builds a new class on
        # every call (measured: a third of a list request's time). The route's response model
        # does the typed serialisation.
        return Page(
            items=list(items), total=total, limit=self.limit, offset=self.offset, next=following
        )

    def slice(self, everything: Sequence[T]) -> Page[T]:
        """A page of a small collection held in memory."""
        return self.page(everything[self.offset : self.offset + self.limit], len(everything))


def pagination(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset, url=request.url)


PaginationDep = Annotated[Pagination, Depends(pagination)]
