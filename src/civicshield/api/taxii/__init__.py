"""TAXII 2.1 endpoints under `/taxii2/` (discovery, API roots, collections, objects,
manifest, versions, status). The logic lives in `civicshield.intel`; here only HTTP: media
types, HTTP Basic and API-token authentication, TAXII error bodies."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from civicshield.runtime import Runtime

__all__ = ["TAXII_PREFIX", "error_response", "install"]

TAXII_PREFIX = "/taxii2"


def install(app: FastAPI, runtime: Runtime) -> None:
    """Add the TAXII routes to `app` (filled in by the TAXII server work)."""


def error_response(request: Request, exc: Exception) -> Response:
    """A TAXII error message (`application/taxii+json;version=2.1`) for `exc`."""
    raise NotImplementedError
