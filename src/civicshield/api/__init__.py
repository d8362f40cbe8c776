"""The REST API: `/api/v1/<resource>` routers over the domains' public services.

Conventions (pagination, filters, times, errors, auth, CSRF, idempotency) are documented once
in `docs/api.md`. The composition root calls `install(app, runtime)` and sends every exception
raised on an `/api` path to `error_response`, which answers RFC 9457 problem+json.

    api/deps.py      access declarations (`require`, `public`) and typed dependencies
    api/errors.py    `error_response`: one problem+json shape for every failure
    api/schemas.py   `Page[T]`, `Problem` and the API's own bodies
    api/openapi.py   resource routers, documented problem responses, OpenAPI touch-ups
    api/routes/      one module per resource
"""

from __future__ import annotations

from fastapi import FastAPI

from civicshield.api.errors import error_response
from civicshield.api.openapi import customise_openapi
from civicshield.api.routes import API_PREFIX, api_router, docs_router
from civicshield.runtime import Runtime

__all__ = ["API_PREFIX", "error_response", "install"]


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the `/api/v1` routes and the `/api/docs` page to `app`."""
    if getattr(app.state, "runtime", None) is None:
        app.state.runtime = runtime
    app.include_router(api_router)
    app.include_router(docs_router)
    customise_openapi(app)
