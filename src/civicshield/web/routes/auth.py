"""Login (password, then two-factor code when enabled) and logout.

Failures answer with one generic message; the per-address limiter slows password spraying,
the per-account lockout (in `accounts.authenticate`) stops guessing one account.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import accounts
from civicshield.accounts import BadCredentials, SessionInfo
from civicshield.core.errors import RateLimited
from civicshield.http import SESSION_COOKIE, client_ip
from civicshield.web.deps import needs_setup, public
from civicshield.web.forms import retry_minutes
from civicshield.web.negotiation import COOKIE_MAX_AGE, LANG_COOKIE, THEME_COOKIE, safe_next
from civicshield.web.page import Page
from civicshield.web.state import web_state

__all__ = ["router"]

router = APIRouter()
PublicPage = Annotated[Page, Depends(public())]
PENDING_SECONDS = 10 * 60  # the accounts service gives a pending two-factor login 10 minutes


def open_session(page: Page, response: Response, info: SessionInfo) -> None:
    """Set the session cookie; for a full session also remember the user's language and
    theme in cookies so pages rendered without a session (errors, after logout) match."""
    lifetime = int(page.runtime.accounts.session_lifetime.total_seconds())
    max_age = PENDING_SECONDS if info.pending_totp else lifetime
    page.set_cookie(response, SESSION_COOKIE, info.token, max_age=max_age)
    if info.principal is not None:
        page.set_cookie(response, LANG_COOKIE, info.principal.language, max_age=COOKIE_MAX_AGE)
        page.set_cookie(response, THEME_COOKIE, info.principal.theme, max_age=COOKIE_MAX_AGE)


def _login_form(
    page: Page, *, status: int = 200, error: str | None = None, retry_after: int | None = None
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    minutes = retry_minutes(retry_after) if retry_after else None
    return page.render(
        "auth/login.html",
        status=status,
        headers=headers,
        error=error,
        lock_minutes=minutes,
        username=page.field("username"),
        next=safe_next(page.field("next") or page.query("next")),
    )


def _after_login(page: Page, info: SessionInfo, target: str) -> Response:
    if info.pending_totp:
        response: Response = page.redirect(f"/login/2fa?next={quote(target, safe='')}")
    elif info.principal is not None and needs_setup(info.principal, page.runtime):
        response = page.redirect("/profile")
    else:
        response = page.redirect(target)
    open_session(page, response, info)
    return response


@router.get("/login")
def login_form(page: PublicPage) -> Response:
    if page.principal is not None:
        return page.redirect(safe_next(page.query("next")))
    return _login_form(page)


@router.post("/login")
def login_submit(page: PublicPage) -> Response:
    runtime, ip = page.runtime, client_ip(page.request)
    password = page.form.get("password")
    try:
        web_state(page.request).login_limiter.hit(ip or "unknown")
        with runtime.session() as session:
            result = accounts.authenticate(
                session,
                username=page.field("username"),
                password=password if isinstance(password, str) else "",
                ip=ip,
                clock=runtime.clock,
                config=runtime.accounts,
            )
            if old := page.request.cookies.get(SESSION_COOKIE):
                accounts.end_session(session, old, clock=runtime.clock)  # no session fixation
            info = accounts.start_session(
                session,
                user_id=result.user_id,
                pending_totp=result.needs_totp,
                ip=ip,
                user_agent=page.request.headers.get("user-agent", ""),
                clock=runtime.clock,
                config=runtime.accounts,
            )
    except RateLimited as exc:  # the address limiter or the account lockout
        return _login_form(page, status=429, error="locked", retry_after=exc.retry_after)
    except BadCredentials:
        return _login_form(page, status=422, error="invalid")
    return _after_login(page, info, safe_next(page.field("next")))


def _pending_user(page: Page) -> int | None:
    token = page.request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with page.runtime.session() as session:
        return accounts.pending_user_id(session, token)


def _totp_form(
    page: Page, *, status: int = 200, error: str | None = None, retry_after: int | None = None
) -> Response:
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return page.render(
        "auth/totp.html",
        status=status,
        headers=headers,
        error=error,
        lock_minutes=retry_minutes(retry_after) if retry_after else None,
        next=safe_next(page.field("next") or page.query("next")),
    )


@router.get("/login/2fa")
def totp_form(page: PublicPage) -> Response:
    if page.principal is not None:
        return page.redirect(safe_next(page.query("next")))
    if _pending_user(page) is None:
        return page.redirect("/login", flash="login_expired")
    return _totp_form(page)


@router.post("/login/2fa")
def totp_submit(page: PublicPage) -> Response:
    runtime, ip = page.runtime, client_ip(page.request)
    if _pending_user(page) is None:
        return page.redirect("/login", flash="login_expired")
    try:
        with runtime.session() as session:
            info = accounts.complete_totp_login(
                session,
                token=page.request.cookies.get(SESSION_COOKIE, ""),
                code=page.field("code"),
                ip=ip,
                user_agent=page.request.headers.get("user-agent", ""),
                clock=runtime.clock,
                config=runtime.accounts,
            )
    except RateLimited as exc:
        return _totp_form(page, status=429, error="locked", retry_after=exc.retry_after)
    except BadCredentials:
        return _totp_form(page, status=422, error="invalid")
    return _after_login(page, info, safe_next(page.field("next")))


@router.post("/logout")
def logout(page: PublicPage) -> Response:
    if token := page.request.cookies.get(SESSION_COOKIE):
        with page.runtime.session() as session:
            accounts.end_session(session, token, clock=page.runtime.clock)
    response = page.redirect("/login", flash="logged_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
