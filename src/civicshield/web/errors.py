"""HTML error pages for everything outside `/api/`, in the visitor's language and the base
layout. A 401 becomes a redirect to the login page; no page ever shows a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import Scope

from civicshield.core.errors import (
    AuthenticationError,
    CivicShieldError,
    Conflict,
    RateLimited,
)
from civicshield.core.i18n import N_
from civicshield.http import SESSION_COOKIE
from civicshield.web.csrf import CsrfRejected
from civicshield.web.deps import login_url
from civicshield.web.forms import retry_minutes
from civicshield.web.page import Page

__all__ = ["error_response", "too_large_page"]

log = logging.getLogger(__name__)

# status -> (title, explanation); English msgids translated when the page renders.
TEXTS: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), N_("The browser sent a request CivicShield could not read.")),
    403: (
        N_("Access denied"),
        N_(
            "Your role may not open this page. If you need it, ask an administrator to change "
            "your role."
        ),
    ),
    404: (
        N_("Page not found"),
        N_("There is no page at this address. Check the link or go back to the dashboard."),
    ),
    405: (N_("Method not allowed"), N_("This page does not accept that kind of request.")),
    409: (N_("Conflict"), N_("The change could not be made in the record's current state.")),
    413: (
        N_("Request too large"),
        N_("What you sent is larger than this server accepts. Send a smaller file or less text."),
    ),
    422: (N_("Invalid request"), N_("Some values in the address or the form are not valid.")),
    429: (
        N_("Too many requests"),
        N_("Too many attempts in a short time. Wait a moment and try again."),
    ),
    500: (
        N_("Something went wrong"),
        N_(
            "CivicShield hit an unexpected error. It has been logged; try again, and tell an "
            "administrator if it keeps happening."
        ),
    ),
    502: (
        N_("A connected service failed"),
        N_("A feed, mail server or peer CivicShield depends on did not answer correctly."),
    ),
}
CSRF_TEXT = (
    N_("Form expired or forged"),
    N_(
        "This form has expired or did not come from CivicShield. Go back, reload the page and "
        "try again."
    ),
)


def _status_of(exc: Exception) -> int:
    if isinstance(exc, CivicShieldError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, RequestValidationError):
        return 422
    return 500


def _redirect(request: Request, location: str) -> Response:
    if request.headers.get("hx-request") == "true":
        # HTMX would swap the login page into a fragment; ask it to navigate instead.
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _headers(exc: Exception, status: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    return headers


def _texts(exc: Exception, status: int) -> tuple[str, str]:
    if isinstance(exc, CsrfRejected):
        return CSRF_TEXT
    return TEXTS.get(status, TEXTS[500 if status >= 500 else 400])


def error_response(request: Request, exc: Exception) -> Response:
    """The HTML response for an error raised while answering a web page."""
    status = _status_of(exc)
    if isinstance(exc, HTTPException) and 300 <= status < 400 and exc.headers:
        return _redirect(request, exc.headers["Location"])
    if isinstance(exc, AuthenticationError) and not isinstance(exc, CsrfRejected):
        return _redirect(request, login_url(request))
    if status >= 500:
        log.error("error on %s %s", request.method, request.url.path, exc_info=exc)
    title, message = _texts(exc, status)
    extra: dict[str, Any] = {}
    if isinstance(exc, RateLimited):
        extra["retry_minutes"] = retry_minutes(exc.retry_after)
    if isinstance(exc, Conflict):
        extra["detail"] = exc.detail  # the domain explains what is in the way
    return render_error(request, status, title, message, _headers(exc, status), **extra)


def render_error(
    request: Request, status: int, title: str, message: str, headers: dict[str, str], **extra: Any
) -> Response:
    """Render the error page; if even that fails, answer in plain text rather than raise."""
    try:
        principal = request.scope.get("civicshield.principal")
        page = Page.build(request, principal)
        return page.render(
            "errors/error.html",
            status=status,
            headers=headers,
            status_code=status,
            title=title,
            message=message,
            # Unmatched paths never resolved the session; a cookie is enough
            # to offer the dashboard (which asks to sign in if it has expired).
            signed_in=SESSION_COOKIE in request.cookies,
            detail=extra.pop("detail", None),
            retry_minutes=extra.pop("retry_minutes", None),
        )
    except Exception:  # the error page must never become a second error
        log.exception("cannot render the error page for status %s", status)
        return PlainTextResponse(f"{status} {title}", status_code=status, headers=headers)


def too_large_page(scope: Scope, limit: int) -> bytes:
    """Body of the 413 page, for `BodySizeLimitMiddleware` (which answers before routing)."""
    request = Request(scope)
    title, message = TEXTS[413]
    response = render_error(request, 413, title, message, {}, detail=None)
    return bytes(response.body)
