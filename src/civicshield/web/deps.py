"""Access declarations for web routes: every route depends on `require(permission)` or
`public()`, which carry the `Access` marker the architecture test looks for.

The dependency resolves who is asking, sends anonymous visitors to the login page, sends users
who must first change their password or enrol two-factor login to their profile, refuses a
role without the permission (403 page), and checks CSRF on every unsafe method. Routes get a
ready `Page` back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from civicshield.accounts import Permission, Principal
from civicshield.core.enums import Role
from civicshield.core.errors import AuthenticationError, PermissionDenied
from civicshield.http import PUBLIC, Access, lookup_principal
from civicshield.runtime import Runtime
from civicshield.web import csrf
from civicshield.web.page import Page
from civicshield.web.state import runtime_of

__all__ = ["LoginRequired", "Redirect", "login_url", "needs_setup", "public", "require"]

PageDependency = Callable[[Request], Awaitable[Page]]
SETUP_PATH = "/profile"


class Redirect(HTTPException):
    """Raised from a dependency to send the browser elsewhere (303 See Other)."""

    def __init__(self, location: str) -> None:
        super().__init__(303, "See Other", headers={"Location": location})


class LoginRequired(AuthenticationError):
    title = "Sign-in required"

    def __init__(self) -> None:
        super().__init__("please sign in to open this page")


def needs_setup(principal: Principal, runtime: Runtime) -> bool:
    """True while the user must change the password or enrol two-factor login first."""
    must_enrol = (
        runtime.accounts.require_admin_totp
        and principal.role is Role.ADMIN
        and not principal.totp_enabled
    )
    return principal.must_change_password or must_enrol


async def _form(request: Request) -> FormData:
    return await request.form() if request.method in csrf.UNSAFE_METHODS else FormData()


async def _principal(request: Request) -> Principal | None:
    # Sessions live in the database: resolve them off the event loop. Pages are for people:
    # an API token (a machine credential) does not open them.
    principal = await run_in_threadpool(lookup_principal, request, runtime_of(request))
    return principal if principal is not None and principal.via == "session" else None


async def _page(request: Request, principal: Principal | None) -> Page:
    runtime = runtime_of(request)
    page = Page.build(request, principal, await _form(request))
    csrf.check_request(
        request, page.form, secret=runtime.settings.secret(), base_url=runtime.settings.base_url
    )
    return page


def require(permission: Permission, *, during_setup: bool = False) -> PageDependency:
    """Dependency for a page that needs `permission`. `during_setup=True` marks the few pages
    (profile) a user may open before finishing a forced password change or TOTP enrolment."""

    async def dependency(request: Request) -> Page:
        principal = await _principal(request)
        if principal is None:
            raise LoginRequired()
        if not during_setup and needs_setup(principal, runtime_of(request)):
            raise Redirect(SETUP_PATH)
        if not principal.can(permission):
            raise PermissionDenied(f"your role may not open this page (needs {permission.value})")
        return await _page(request, principal)

    dependency.__name__ = f"require_{permission.name.lower()}"
    Access.mark(dependency, permission)
    return dependency


def public() -> PageDependency:
    """Dependency for a page anyone may open (login, preference switches)."""

    async def dependency(request: Request) -> Page:
        return await _page(request, await _principal(request))

    dependency.__name__ = "public_page"
    Access.mark(dependency, PUBLIC)
    return dependency


def login_url(request: Request) -> str:
    """Where to send an anonymous visitor: the login page, coming back here after a GET."""
    if request.method != "GET":
        return "/login"
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if target == "/" else f"/login?next={quote(target, safe='')}"
