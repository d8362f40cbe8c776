"""Browser session cookies: set after a successful login step, cleared at logout."""

from __future__ import annotations

from starlette.responses import Response

from civicshield.accounts import SessionInfo
from civicshield.http import SESSION_COOKIE
from civicshield.web.negotiation import LANG_COOKIE, THEME_COOKIE
from civicshield.web.page import Page

__all__ = ["PENDING_SECONDS", "clear_session", "open_session"]

PENDING_SECONDS = 10 * 60  # the accounts service gives a pending two-factor login 10 minutes
YEAR = 365 * 24 * 3600


def open_session(page: Page, response: Response, info: SessionInfo) -> None:
    """Set the session cookie; for a full session also remember the user's language and
    theme in cookies so pages rendered without a session (errors, after logout) match."""
    lifetime = int(page.runtime.accounts.session_lifetime.total_seconds())
    max_age = PENDING_SECONDS if info.pending_totp else lifetime
    page.set_cookie(response, SESSION_COOKIE, info.token, max_age=max_age)
    if info.principal is not None:
        page.set_cookie(response, LANG_COOKIE, info.principal.language, max_age=YEAR)
        page.set_cookie(response, THEME_COOKIE, info.principal.theme, max_age=YEAR)


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
