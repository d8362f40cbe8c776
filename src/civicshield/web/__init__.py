"""The server-rendered web UI: Jinja2 pages with HTMX, in English, Mexican Spanish and
Canadian French, light and dark themes.

`install(app, runtime)` adds the page routes and `/static`; `error_response(request, exc)` is
the HTML error page the composition root uses outside `/api/`. Plugins add menu entries by
returning `NavItem`s from the `civicshield_navigation` hook.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from civicshield.runtime import Runtime
from civicshield.web.assets import STATIC_DIR
from civicshield.web.deps import public, require
from civicshield.web.errors import error_response, too_large_page
from civicshield.web.nav import NavItem
from civicshield.web.page import Page
from civicshield.web.routes import ROUTERS
from civicshield.web.state import WebState

__all__ = ["NavItem", "Page", "error_response", "install", "public", "require", "too_large_page"]


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the web pages to `app`; the page routes are left out of the OpenAPI document."""
    app.state.web = WebState.build(runtime)
    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
