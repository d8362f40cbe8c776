"""One's own profile: preferences, password, two-factor login. These pages stay open while a
user must first change the password or enrol two-factor login (`during_setup=True`)."""

from __future__ import annotations

import base64
import functools
from functools import cache
from typing import Annotated, Any
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import accounts
from civicshield.accounts import Permission, Preferences
from civicshield.core.errors import Conflict, Invalid
from civicshield.core.i18n import N_
from civicshield.http import SESSION_COOKIE
from civicshield.web.deps import needs_setup, require
from civicshield.web.forms import domain_errors, schema_errors
from civicshield.web.negotiation import COOKIE_MAX_AGE, LANG_COOKIE, THEME_COOKIE, THEMES
from civicshield.web.page import Page
from civicshield.web.signing import sign, unsign

__all__ = ["router", "timezone_choices"]

router = APIRouter()
ProfilePage = Annotated[Page, Depends(require(Permission.PROFILE_SELF, during_setup=True))]
COMMON_ZONES = (
    "America/Tijuana",
    "America/Mexico_City",
    "America/Montreal",
    "America/Toronto",
    "UTC",
)
ENROL_PURPOSE, ENROL_MAX_AGE = "totp-enrolment", 15 * 60
PREF_MESSAGES = {
    "display_name": N_("Use at most 200 characters."),
    "language": N_("Choose a language from the list."),
    "timezone": N_("Choose a time zone from the list."),
    "theme": N_("Choose a theme from the list."),
    "*": N_("Check this value."),
}


@cache
@functools.cache
def timezone_choices() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The zones people here use most, then every zone the system knows, sorted (computed
    once: listing the zones walks the time zone database on disk)."""
    others = sorted(
        z
        for z in available_timezones()
        if z not in COMMON_ZONES and not z.startswith(("Etc/", "SystemV/")) and "/" in z
    )
    return COMMON_ZONES, tuple(others)


def _profile(page: Page, *, status: int = 200, **values: Any) -> Response:
    with page.runtime.session() as session:
        user = accounts.get_user(session, page.user.user_id)
    common, others = timezone_choices()
    context: dict[str, Any] = {
        "user": user,
        "common_zones": common,
        "other_zones": others,
        "themes": THEMES,
        "setup": needs_setup(page.user, page.runtime),
        "errors": {},
        "totp_required": page.runtime.accounts.require_admin_totp
        and page.user.role.value == "admin",
        "nav_key": "profile",
    }
    context.update(values)
    return page.render("profile/index.html", status=status, **context)


@router.get("/profile")
def profile(page: ProfilePage) -> Response:
    return _profile(page)


@router.post("/profile")
def save_preferences(page: ProfilePage) -> Response:
    try:
        prefs = Preferences(
            display_name=page.field("display_name") or None,
            language=page.field("language"),
            timezone=page.field("timezone"),
            theme=page.field("theme"),
        )
    except ValidationError as exc:
        return _profile(page, status=422, errors=schema_errors(page, exc, PREF_MESSAGES))
    with page.runtime.session() as session:
        user = accounts.update_preferences(
            session, page.user.user_id, prefs, actor=page.actor, clock=page.runtime.clock
        )
    response = page.redirect("/profile", flash="saved")
    page.set_cookie(response, LANG_COOKIE, user.language, max_age=COOKIE_MAX_AGE)
    page.set_cookie(response, THEME_COOKIE, user.theme, max_age=COOKIE_MAX_AGE)
    return response


@router.post("/profile/password")
def change_password(page: ProfilePage) -> Response:
    current, new = (
        str(page.form.get("current_password") or ""),
        str(page.form.get("new_password") or ""),
    )
    if new != str(page.form.get("confirm_password") or ""):
        errors = {"confirm_password": page.gettext(N_("The two new passwords differ."))}
        return _profile(page, status=422, errors=errors)
    try:
        with page.runtime.session() as session:
            accounts.change_password(
                session,
                page.user.user_id,
                current=current,
                new=new,
                actor=page.actor,
                clock=page.runtime.clock,
                config=page.runtime.accounts,
                keep_session=page.request.cookies.get(SESSION_COOKIE),
            )
    except Invalid as exc:
        errors = domain_errors(page, exc)
        if "password" in errors:  # the policy speaks of "password": here it is the new one
            errors["new_password"] = errors.pop("password")
        return _profile(page, status=422, errors=errors)
    return page.redirect("/profile", flash="password_changed")


def _enrolment_page(
    page: Page, secret: str, *, qr_svg: str | None, error: str | None = None, status: int = 200
) -> Response:
    runtime = page.runtime
    signed = sign(
        runtime.settings.secret(),
        ENROL_PURPOSE,
        f"{page.user.user_id}:{secret}",
        now=runtime.clock.now(),
    )
    qr = base64.b64encode(qr_svg.encode()).decode() if qr_svg else None
    return page.render(
        "profile/totp.html",
        status=status,
        nav_key="profile",
        secret=secret,
        signed=signed,
        qr_base64=qr,
        error=error,
    )


@router.post("/profile/totp/begin")
def begin_totp(page: ProfilePage) -> Response:
    with page.runtime.session() as session:
        enrolment = accounts.begin_totp(session, page.user.user_id, config=page.runtime.accounts)
    return _enrolment_page(page, enrolment.secret, qr_svg=enrolment.qr_svg)


@router.post("/profile/totp/confirm")
def confirm_totp(page: ProfilePage) -> Response:
    runtime = page.runtime
    value = unsign(
        runtime.settings.secret(),
        ENROL_PURPOSE,
        page.field("enrolment"),
        now=runtime.clock.now(),
        max_age=ENROL_MAX_AGE,
    )
    user_id, _, secret = (value or "").partition(":")
    if value is None or user_id != str(page.user.user_id):
        return page.redirect("/profile", flash="enrolment_expired")
    try:
        with runtime.session() as session:
            accounts.confirm_totp(
                session,
                page.user.user_id,
                secret=secret,
                code=page.field("code"),
                actor=page.actor,
                clock=runtime.clock,
            )
    except Invalid:
        error = page.gettext(N_("That code does not match. Enter the current code from your app."))
        with runtime.session() as session:  # show the same QR code again with the error
            enrolment = accounts.totp_enrolment_for(
                session, page.user.user_id, secret=secret, config=runtime.accounts
            )
        return _enrolment_page(page, secret, qr_svg=enrolment.qr_svg, error=error, status=422)
    return page.redirect("/profile", flash="totp_enabled")


@router.post("/profile/totp/disable")
def disable_totp(page: ProfilePage) -> Response:
    if page.runtime.accounts.require_admin_totp and page.user.role.value == "admin":
        raise Conflict("administrators must keep two-factor login on")
    try:
        with page.runtime.session() as session:
            accounts.disable_totp(
                session,
                page.user.user_id,
                actor=page.actor,
                clock=page.runtime.clock,
                config=page.runtime.accounts,
                password=page.field("totp_password"),
            )
    except Invalid:
        errors = {"totp_password": page.gettext(N_("The password is wrong."))}
        return _profile(page, status=422, errors=errors)
    return page.redirect("/profile", flash="totp_disabled")
