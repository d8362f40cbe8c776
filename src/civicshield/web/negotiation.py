"""Which language, theme and time zone a page is rendered in.

Order: the logged-in user's saved preference, then the visitor's cookie, then (language only)
the browser's Accept-Language, then the settings' default. The server decides, so the first
paint already has the right `lang` and `data-theme` (no flash of the wrong theme).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from civicshield.accounts import Principal
from civicshield.core.i18n import LANGUAGES
from civicshield.core.settings import Settings

__all__ = [
    "COOKIE_MAX_AGE",
    "LANG_COOKIE",
    "THEMES",
    "THEME_COOKIE",
    "parse_accept_language",
    "resolve_language",
    "resolve_theme",
    "resolve_timezone",
    "safe_next",
    "safe_referer",
]

LANG_COOKIE = "cs_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600  # preference cookies outlive sessions
THEME_COOKIE = "cs_theme"
THEMES = ("system", "light", "dark")


def parse_accept_language(header: str) -> list[str]:
    """Language ranges from an Accept-Language header, best first (q=0 dropped)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _match(tag: str) -> str | None:
    """Exact tag first (es-MX), then the primary language (es, es-ES → es-MX)."""
    lowered = {code.lower(): code for code in LANGUAGES}
    if tag.lower() in lowered:
        return lowered[tag.lower()]
    primary = tag.split("-")[0].lower()
    return next((code for code in LANGUAGES if code.split("-")[0].lower() == primary), None)


def resolve_language(conn: HTTPConnection, principal: Principal | None, settings: Settings) -> str:
    if principal is not None and principal.language in LANGUAGES:
        return principal.language
    cookie = conn.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    for tag in parse_accept_language(conn.headers.get("accept-language", "")):
        if tag == "*":
            break
        if (code := _match(tag)) is not None:
            return code
    return settings.default_language


def resolve_theme(conn: HTTPConnection, principal: Principal | None) -> str:
    if principal is not None and principal.theme in THEMES:
        return principal.theme
    cookie = conn.cookies.get(THEME_COOKIE)
    return cookie if cookie in THEMES else "system"


def resolve_timezone(principal: Principal | None, settings: Settings) -> str:
    return principal.timezone if principal is not None else settings.default_timezone


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a local path (one leading '/', no scheme, host or backslash) may be a redirect
    target; anything else would be an open redirect."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def safe_referer(conn: HTTPConnection, default: str = "/") -> str:
    """The Referer's path and query when it points at this site, else `default`."""
    referer = conn.headers.get("referer")
    if not referer:
        return default
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != conn.headers.get("host", conn.url.netloc):
        return default
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_next(target, default)
