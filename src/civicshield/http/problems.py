"""RFC 9457 problem details: the one error shape of `/api/v1`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from civicshield.core.errors import CivicShieldError, FieldError, Invalid, RateLimited

__all__ = ["PROBLEM_TYPE_BASE", "problem_body", "problem_for_error", "problem_response"]

PROBLEM_TYPE_BASE = "https://civicshield.example/problems/"
MEDIA_TYPE = "application/problem+json"


def problem_body(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str = "error",
    instance: str | None = None,
    errors: list[FieldError] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "errors": [{"loc": list(e.loc), "msg": e.msg} for e in errors or []],
    }
    body.update(extra)
    return body


def problem_response(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **kw: Any
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, title, detail, **kw),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def problem_for_error(error: CivicShieldError, instance: str | None = None) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    errors = error.errors if isinstance(error, Invalid) else None
    return problem_response(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        instance=instance,
        errors=errors,
        headers=headers,
    )
