"""TAXII 2.1 media types, content negotiation and the TAXII error message shape."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from civicshield.core.errors import AuthenticationError, CivicShieldError, RateLimited

__all__ = [
    "REALM",
    "TAXII_MEDIA_TYPE",
    "NotAcceptable",
    "UnsupportedMediaType",
    "check_accept",
    "check_content_type",
    "taxii_error",
    "taxii_response",
]

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
REALM = 'Basic realm="CivicShield TAXII"'
# What a client may ask for: TAXII 2.1 (with or without the version) or anything; generic
# clients (curl, browsers' fetch) send */* and get TAXII 2.1, the only version served.
_ACCEPTED = {"application/taxii+json;version=2.1", "application/taxii+json", "*/*", "application/*"}


class NotAcceptable(CivicShieldError):
    title = "Not Acceptable"
    status = 406
    slug = "taxii-not-acceptable"


class UnsupportedMediaType(CivicShieldError):
    title = "Unsupported Media Type"
    status = 415
    slug = "taxii-unsupported-media-type"


def _media_types(header: str) -> list[str]:
    """Media types of an Accept/Content-Type header, parameters other than `version` dropped
    (`q=` weights do not change what we can serve), spaces removed, lower case."""
    found = []
    for part in header.split(","):
        pieces = [p.strip().lower() for p in part.split(";") if p.strip()]
        if not pieces:
            continue
        params = [p.replace(" ", "") for p in pieces[1:] if p.startswith("version")]
        found.append(";".join([pieces[0], *params]))
    return found


def check_accept(request: Request) -> None:
    header = request.headers.get("accept", "")
    if header and not any(m in _ACCEPTED for m in _media_types(header)):
        raise NotAcceptable(
            f"the Accept header {header!r} does not include {TAXII_MEDIA_TYPE}, the only "
            "media type this TAXII server answers in"
        )


def check_content_type(request: Request) -> None:
    header = request.headers.get("content-type", "")
    types = _media_types(header)
    if not types or types[0] not in (
        "application/taxii+json;version=2.1",
        "application/taxii+json",
    ):
        raise UnsupportedMediaType(
            f"the Content-Type {header or '(none)'!r} is not {TAXII_MEDIA_TYPE}"
        )


def taxii_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    return Response(content, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def taxii_error(exc: Exception) -> Response:
    """A TAXII 2.1 error message for `exc` (never a traceback)."""
    headers: dict[str, str] = {}
    if isinstance(exc, CivicShieldError):
        status, title, description = exc.status, exc.title, exc.detail
        if isinstance(exc, AuthenticationError):
            headers["WWW-Authenticate"] = REALM
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        title = HTTPStatus(status).phrase
        description = str(exc.detail)
        headers.update(exc.headers or {})
    elif isinstance(exc, RequestValidationError):
        status, title = 400, "Bad Request"
        description = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
    else:
        status, title = 500, "Internal Server Error"
        description = "the server failed to answer this request; the error is logged"
    body = {"title": title, "description": description, "http_status": str(status)}
    return taxii_response(body, status=status, headers=headers)
