"""`Page`: everything a route needs to answer one browser request (who, in which language,
time zone and theme, the posted form) and the helpers to render or redirect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from civicshield.accounts import Permission, Principal
from civicshield.core.actor import Actor
from civicshield.core.errors import AuthenticationError
from civicshield.core.i18n import LANGUAGES
from civicshield.runtime import Runtime
from civicshield.web import csrf
from civicshield.web.messages import FLASH, FLASH_COOKIE
from civicshield.web.nav import visible_navigation
from civicshield.web.negotiation import resolve_language, resolve_theme, resolve_timezone
from civicshield.web.state import runtime_of, set_cookie, web_state

__all__ = ["Page"]


@dataclass
class Page:
    request: Request
    runtime: Runtime
    principal: Principal | None
    form: FormData = field(default_factory=FormData)
    language: str = "en"
    theme: str = "system"
    timezone: str = "UTC"
    _new_anon: str | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(
        cls, request: Request, principal: Principal | None, form: FormData | None = None
    ) -> Page:
        runtime = runtime_of(request)
        return cls(
            request=request,
            runtime=runtime,
            principal=principal,
            form=form if form is not None else FormData(),
            language=resolve_language(request, principal, runtime.settings),
            theme=resolve_theme(request, principal),
            timezone=resolve_timezone(principal, runtime.settings),
        )

    # --- who ----------------------------------------------------------------------------

    @property
    def user(self) -> Principal:
        """The logged-in principal (routes behind `require` always have one)."""
        if self.principal is None:
            raise AuthenticationError("please sign in")
        return self.principal

    @property
    def actor(self) -> Actor:
        return self.user.actor

    def can(self, permission: Permission) -> bool:
        return self.principal is not None and self.principal.can(permission)

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    # --- input --------------------------------------------------------------------------

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else default

    def fields(self, name: str) -> list[str]:
        return [v for v in self.form.getlist(name) if isinstance(v, str)]

    def query(self, name: str, default: str = "") -> str:
        return self.request.query_params.get(name, default).strip()

    # --- output -------------------------------------------------------------------------

    def gettext(self, message: str, **values: Any) -> str:
        return web_state(self.request).renderer.gettext(self.language, message, **values)

    def context(self, **values: Any) -> dict[str, Any]:
        state = web_state(self.request)
        token, self._new_anon = csrf.page_token(self.request, self.runtime.settings.secret())
        flash_key = self.request.cookies.get(FLASH_COOKIE, "")
        base: dict[str, Any] = {
            "request": self.request,
            "principal": self.principal,
            "page": self,
            "language": self.language,
            "languages": LANGUAGES,
            "theme": self.theme,
            "timezone": self.timezone,
            "csrf_token": token,
            "city_name": self.runtime.settings.city_name,
            "navigation": visible_navigation(state.navigation, self.principal),
            "flash": FLASH.get(flash_key),
            "Permission": Permission,
            "assets_missing": state.assets.missing,
            "nav_key": "",
        }
        base.update(values)
        return base

    def render(
        self,
        template: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        context = self.context(**values)
        html = web_state(self.request).renderer.render(template, context, language=self.language)
        response = HTMLResponse(html, status_code=status, headers=headers)
        self._finish(response, consumed_flash=context["flash"] is not None)
        return response

    def fragment(self, template: str, **values: Any) -> HTMLResponse:
        """An HTMX partial: same context, but a pending flash message is left for a full page."""
        context = self.context(**values)
        context["flash"] = None
        html = web_state(self.request).renderer.render(template, context, language=self.language)
        response = HTMLResponse(html)
        self._finish(response, consumed_flash=False)
        return response

    def redirect(self, url: str, *, flash: str | None = None) -> RedirectResponse:
        response = RedirectResponse(url, status_code=303)
        if flash is not None:
            self.set_cookie(response, FLASH_COOKIE, flash, max_age=60)
        return response

    def set_cookie(
        self,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int | None,
        http_only: bool = True,
    ) -> None:
        set_cookie(
            response,
            self.request,
            self.runtime.settings,
            name,
            value,
            max_age=max_age,
            http_only=http_only,
        )

    def _finish(self, response: Response, *, consumed_flash: bool) -> None:
        if self._new_anon is not None:
            self.set_cookie(response, csrf.ANON_COOKIE, self._new_anon, max_age=None)
        if consumed_flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
