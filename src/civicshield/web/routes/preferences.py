"""Theme and language switches in every page header. They work for anonymous visitors
(cookies) and, for a logged-in user, are also saved to the profile. A script-driven theme
switch gets 204 and changes the page in place; a plain form post is sent back where it came
from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from civicshield import accounts
from civicshield.accounts import Preferences
from civicshield.core.errors import Invalid
from civicshield.core.i18n import LANGUAGES
from civicshield.web.deps import public
from civicshield.web.negotiation import (
    COOKIE_MAX_AGE,
    LANG_COOKIE,
    THEME_COOKIE,
    THEMES,
    safe_referer,
)
from civicshield.web.page import Page

__all__ = ["router"]

router = APIRouter()
PublicPage = Annotated[Page, Depends(public())]


def _save(page: Page, prefs: Preferences) -> None:
    if page.principal is not None and page.principal.via == "session":
        with page.runtime.session() as session:
            accounts.update_preferences(
                session, page.principal.user_id, prefs, actor=page.actor, clock=page.runtime.clock
            )


def _answer(page: Page, cookie: str, value: str) -> Response:
    in_place = page.htmx or page.request.headers.get("x-requested-with") == "fetch"
    response = Response(status_code=204) if in_place else page.redirect(safe_referer(page.request))
    page.set_cookie(response, cookie, value, max_age=COOKIE_MAX_AGE)
    return response


@router.post("/preferences/theme")
def set_theme(page: PublicPage) -> Response:
    theme = page.field("theme")
    if theme not in THEMES:
        raise Invalid(f"unknown theme {theme[:20]!r}")
    _save(page, Preferences(theme=theme))
    return _answer(page, THEME_COOKIE, theme)


@router.post("/preferences/language")
def set_language(page: PublicPage) -> Response:
    language = page.field("language")
    if language not in LANGUAGES:
        raise Invalid(f"unknown language {language[:20]!r}")
    _save(page, Preferences(language=language))
    return _answer(page, LANG_COOKIE, language)
