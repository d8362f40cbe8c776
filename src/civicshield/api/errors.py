"""Every failure of `/api` as one RFC 9457 problem+json shape.

    {"type": "https://civicshield.example/problems/<slug>", "title": ..., "status": ...,
     "detail": ..., "instance": "<request path>", "errors": [{"loc": [...], "msg": ...}]}

`error_response` is the only place that turns exceptions into API responses:

    CivicShieldError          its own status, title, slug and detail (`problem_for_error`)
    RequestValidationError    422; `errors` lists each field (malformed JSON names the position)
    HTTPException             its status (404 unknown route, 405 wrong method keeps `Allow`)
    anything else             500 with a generic detail and a log reference, never a traceback

Every 401 carries `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from civicshield.core.errors import CivicShieldError, FieldError, PermissionDenied
from civicshield.http.problems import problem_for_error, problem_response

__all__ = ["CsrfFailed", "ServiceUnavailable", "error_response"]

log = logging.getLogger(__name__)

MAX_DETAIL_FIELDS = 5


class ServiceUnavailable(CivicShieldError):
    """A dependency of the API (the database) cannot be reached right now."""

    title = "Service unavailable"
    status = 503
    slug = "unavailable"


class CsrfFailed(PermissionDenied):
    """A browser-session write without the session's `X-CSRF-Token` header."""

    title = "CSRF check failed"
    slug = "csrf"


def error_response(request: Request, exc: Exception) -> Response:
    """The problem+json response for any exception raised while serving an `/api` path."""
    instance = request.url.path
    if isinstance(exc, CivicShieldError):
        if exc.status >= 500:
            log.error("%s on %s %s: %s", type(exc).__name__, request.method, instance, exc.detail)
        response: Response = problem_for_error(exc, instance)
    elif isinstance(exc, RequestValidationError):
        response = _validation_problem(exc.errors(), instance)
    elif isinstance(exc, HTTPException):
        response = _http_problem(request, exc, instance)
    else:
        reference = secrets.token_hex(6)
        log.exception(
            "unhandled error (reference %s) on %s %s",
            reference,
            request.method,
            instance,
            exc_info=exc,
        )
        response = problem_response(
            500,
            "Internal server error",
            f"an unexpected error occurred; it was logged with reference {reference}",
            slug="internal",
            instance=instance,
        )
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _validation_problem(errors: Sequence[Any], instance: str) -> Response:
    for error in errors:
        if error.get("type") == "json_invalid":
            loc = tuple(error.get("loc", ("body",)))
            position = loc[1] if len(loc) > 1 else 0
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            return problem_response(
                422,
                "Malformed JSON",
                f"the request body is not valid JSON: {reason} at position {position}",
                slug="malformed-json",
                instance=instance,
                errors=[FieldError(loc, f"{reason} (position {position})")],
            )
    fields = [FieldError(tuple(e.get("loc", ())), _message(e)) for e in errors]
    shown = "; ".join(
        f"{'.'.join(str(part) for part in f.loc) or 'request'}: {f.msg}"
        for f in fields[:MAX_DETAIL_FIELDS]
    )
    if len(fields) > MAX_DETAIL_FIELDS:
        shown += f"; and {len(fields) - MAX_DETAIL_FIELDS} more"
    count = f"{len(fields)} invalid field" + ("s" if len(fields) != 1 else "")
    return problem_response(
        422, "Invalid input", f"{count}: {shown}", slug="invalid", instance=instance, errors=fields
    )


def _message(error: Any) -> str:
    """Pydantic's message, except for a body that arrived as bytes (not sent as JSON)."""
    if tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes):
        return "send a JSON object with the header Content-Type: application/json"
    return str(error.get("msg", "invalid value"))


def _http_problem(request: Request, exc: HTTPException, instance: str) -> Response:
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if detail == phrase:  # Starlette's default: say something more useful
        if status == 404:
            detail = f"no API endpoint at {instance}"
        elif status == 405:
            allowed = headers.get("Allow") or headers.get("allow") or "see the API documentation"
            detail = f"{request.method} is not allowed on {instance} (allowed: {allowed})"
    slug = "-".join(phrase.lower().replace("'", "").split()) or "error"
    title = phrase[:1] + phrase[1:].lower()  # "Not found", like the domain errors' titles
    return problem_response(
        status, title, detail, slug=slug, instance=instance, headers=headers or None
    )
