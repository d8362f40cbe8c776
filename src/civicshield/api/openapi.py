"""How the API describes itself: resource routers with stable operation ids and documented
problem responses, and the OpenAPI post-processing that serves errors as problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter

from civicshield.api.schemas import Problem

__all__ = ["PROBLEM_MEDIA_TYPE", "customise_openapi", "problems", "resource_router"]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated: no credentials, or an invalid, expired or revoked token "
    "(`WWW-Authenticate: Bearer`)",
    403: "Authenticated, but lacking the permission named in `detail`, or a browser-session "
    "write without the `X-CSRF-Token` header",
    404: "No such record (or one you may not see)",
    409: "Conflicts with the record's current state",
    413: "Request body larger than the configured limit",
    422: "Invalid input: `errors` lists each field (`loc`, `msg`); malformed JSON names the "
    "position",
    503: "A dependency (the database) cannot be reached",
}
_PROBLEM_REF = "#/components/schemas/Problem"


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting problem+json bodies for these statuses."""
    return {
        status: {"model": Problem, "description": _DESCRIPTIONS.get(status, "Error")}
        for status in statuses
    }


def _operation_id(route: APIRoute) -> str:
    return route.name


def resource_router(prefix: str, tag: str, *, public: bool = False) -> APIRouter:
    """A router for one resource. Protected resources document 401/403/422 problems."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        responses=problems(422) if public else problems(401, 403, 422),
        generate_unique_id_function=_operation_id,
    )


def _problems_as_problem_json(schema: dict[str, Any]) -> None:
    """FastAPI files every response model under `application/json`; error bodies are
    `application/problem+json`. Move them (idempotent)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                json_body = content.get("application/json")
                if (
                    str(status)[:1] in "45"
                    and json_body is not None
                    and json_body.get("schema", {}).get("$ref") == _PROBLEM_REF
                ):
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")


def customise_openapi(app: FastAPI) -> None:
    """Wrap `app.openapi` so the generated document shows problem+json error bodies."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        _problems_as_problem_json(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
