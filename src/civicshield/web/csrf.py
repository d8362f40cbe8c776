"""CSRF defence for every unsafe request to a web page.

Two layers: (1) a cross-site request is refused from the browser's own `Sec-Fetch-Site` and
`Origin` headers when present; (2) a token must come back in the `csrf_token` form field or the
`X-CSRF-Token` header (HTMX). Logged-in sessions have a per-session token (set on the request
scope by `lookup_principal`); anonymous forms use a signed double submit: a random `cs_anon`
cookie plus a field holding HMAC(secret key, cookie), so an attacker who can plant a cookie
still cannot produce the matching field without the server's key.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request

from civicshield.core.errors import PermissionDenied
from civicshield.web.signing import mac

__all__ = [
    "ANON_COOKIE",
    "UNSAFE_METHODS",
    "CsrfRejected",
    "check_request",
    "page_token",
]

ANON_COOKIE = "cs_anon"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PURPOSE = "csrf-anon"
_NEW_ANON = "civicshield.new_anon"


class CsrfRejected(PermissionDenied):
    title = "Form expired or forged"
    slug = "csrf"


def _expected(request: Request, secret: str) -> str | None:
    session_token = request.scope.get("civicshield.csrf")
    if session_token:
        return str(session_token)
    anon = request.scope.get(_NEW_ANON) or request.cookies.get(ANON_COOKIE)
    if not anon or len(anon) > 100:
        return None
    return mac(secret, _PURPOSE, anon)


def page_token(request: Request, secret: str) -> tuple[str, str | None]:
    """The token to embed in this page's forms, and a new `cs_anon` cookie value to set when
    an anonymous visitor has none yet (None when nothing must be set)."""
    expected = _expected(request, secret)
    if expected is not None:
        return expected, None
    anon = secrets.token_urlsafe(24)
    request.scope[_NEW_ANON] = anon  # later renders in this request reuse it
    return mac(secret, _PURPOSE, anon), anon


def _own_origins(request: Request, base_url: str | None) -> set[str]:
    origins = {f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"}
    if base_url:
        parts = urlsplit(base_url)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    return origins


def _cross_site(request: Request, base_url: str | None) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = request.headers.get("origin")
    return origin is not None and origin not in _own_origins(request, base_url)


def check_request(request: Request, form: FormData, *, secret: str, base_url: str | None) -> None:
    """Raise `CsrfRejected` unless an unsafe request is same-origin and carries the token."""
    if request.method not in UNSAFE_METHODS:
        return
    if _cross_site(request, base_url):
        raise CsrfRejected("the request came from another site")
    given = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    expected = _expected(request, secret)
    if (
        not isinstance(given, str)
        or expected is None
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        raise CsrfRejected("the form's security token is missing or does not match")
