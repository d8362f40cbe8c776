"""What the web adapter builds once at start-up and keeps on `app.state.web`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import HTTPConnection
from starlette.responses import Response

from civicshield.accounts import SlidingWindowLimiter
from civicshield.core.settings import Environment, Settings
from civicshield.runtime import Runtime
from civicshield.web.assets import Assets
from civicshield.web.messages import TEMPLATE_GLOBALS
from civicshield.web.nav import NavItem, collect_navigation
from civicshield.web.rendering import Renderer

__all__ = ["WebState", "runtime_of", "set_cookie", "web_state"]


@dataclass
class WebState:
    renderer: Renderer
    assets: Assets
    navigation: list[NavItem]
    login_limiter: SlidingWindowLimiter

    @classmethod
    def build(cls, runtime: Runtime) -> WebState:
        settings = runtime.settings
        assets = Assets.load()
        return cls(
            renderer=Renderer(
                globals_={"assets": assets, **TEMPLATE_GLOBALS},
                auto_reload=settings.environment is Environment.DEVELOPMENT,
            ),
            assets=assets,
            navigation=collect_navigation(runtime),
            login_limiter=SlidingWindowLimiter(
                limit=settings.login_ip_limit_per_minute,
                window=timedelta(minutes=1),
                clock=runtime.clock,
            ),
        )


def web_state(conn: HTTPConnection) -> WebState:
    state: WebState = conn.app.state.web
    return state


def runtime_of(conn: HTTPConnection) -> Runtime:
    runtime: Runtime = conn.app.state.runtime
    return runtime


def set_cookie(
    response: Response,
    conn: HTTPConnection,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int | None,
    http_only: bool = True,
) -> None:
    """Cookies are HttpOnly, SameSite=Lax and Path=/; Secure when configured, or (setting
    unset) when the request itself arrived over HTTPS."""
    secure = settings.cookie_secure
    if secure is None:
        secure = conn.url.scheme == "https"
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=secure, httponly=http_only, samesite="lax"
    )
