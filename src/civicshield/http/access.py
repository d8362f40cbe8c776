"""Who is asking (session cookie or bearer token) and what each route declares it needs.

Every route depends on exactly one access declaration: `Access.public()` or
`Access.require(permission)`. `declared_access` reads it back so a test can refuse any route
without one (deny by default).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import HTTPConnection

from civicshield import accounts
from civicshield.accounts import Permission, Principal
from civicshield.runtime import Runtime

__all__ = [
    "PERMISSION_ATTR",
    "PUBLIC",
    "SESSION_COOKIE",
    "Access",
    "client_ip",
    "declared_access",
    "lookup_principal",
]

SESSION_COOKIE = "cs_session"
PERMISSION_ATTR = "__civicshield_access__"
PUBLIC = "public"


def client_ip(conn: HTTPConnection) -> str | None:
    return conn.client.host if conn.client else None


def lookup_principal(conn: HTTPConnection, runtime: Runtime) -> Principal | None:
    """The principal behind a request: a bearer API token first, else the session cookie.
    Cached on the request so one request resolves it once."""
    cached = conn.scope.get("civicshield.principal", ...)
    if cached is not ...:
        return cached  # type: ignore[no-any-return]
    principal: Principal | None = None
    header = conn.headers.get("authorization", "")
    ip = client_ip(conn)
    with runtime.session() as session:
        if header.lower().startswith("bearer "):
            principal = accounts.principal_for_token(
                session, header[7:].strip(), ip=ip, clock=runtime.clock
            )
        elif token := conn.cookies.get(SESSION_COOKIE):
            info = accounts.resolve_session(
                session, token, ip=ip, clock=runtime.clock, config=runtime.accounts
            )
            if info is not None:
                conn.scope["civicshield.csrf"] = info.csrf_token
                principal = info.principal
    conn.scope["civicshield.principal"] = principal
    return principal


class Access:
    """Factories for the access declaration each route must carry."""

    @staticmethod
    def mark(func: Callable[..., Any], value: Permission | str) -> Callable[..., Any]:
        setattr(func, PERMISSION_ATTR, value)
        return func

    @staticmethod
    def public() -> str:
        return PUBLIC


def declared_access(dependency: Callable[..., Any]) -> Permission | str | None:
    value: Permission | str | None = getattr(dependency, PERMISSION_ATTR, None)
    return value
