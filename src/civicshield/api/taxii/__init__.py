"""TAXII 2.1 endpoints under `/taxii2/` (discovery, API roots, collections, objects,
manifest, versions, status). The logic lives in `civicshield.intel.taxii`; here only HTTP:
media types, HTTP Basic and API-token authentication, TAXII error bodies. The routes are
left out of the `/api/v1` OpenAPI document (TAXII has its own specification); docs/taxii.md
describes them.

    media.py    media types, Accept/Content-Type checks (406/415), TAXII error messages
    auth.py     the caller: HTTP Basic member or API token (the routes' access declaration)
    routes.py   the endpoints
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from civicshield.api.taxii.media import taxii_error
from civicshield.api.taxii.routes import TAXII_PREFIX, router
from civicshield.runtime import Runtime

__all__ = ["TAXII_PREFIX", "error_response", "install"]


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the TAXII routes to `app`."""
    if getattr(app.state, "runtime", None) is None:
        app.state.runtime = runtime
    app.include_router(router)


def error_response(request: Request, exc: Exception) -> Response:
    """A TAXII error message (`application/taxii+json;version=2.1`) for `exc`."""
    return taxii_error(exc)
