"""Deny by default: every HTTP route declares the permission it needs or that it is public."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Mount

from civicshield.http import PUBLIC, declared_access

# FastAPI's own OpenAPI document route carries no dependencies; it is public on purpose.
EXEMPT = {"/api/v1/openapi.json"}


def _declarations(dependant: Any) -> list[object]:
    found = []
    for dep in dependant.dependencies:
        if dep.call is not None and declared_access(dep.call) is not None:
            found.append(declared_access(dep.call))
        found.extend(_declarations(dep))
    return found


def _routes(app: Any) -> list[Any]:
    """Every route, with routers included by FastAPI flattened (`original_route`, `dependant`)."""
    return list(iter_route_contexts(app.routes))


def test_every_route_declares_access(app: Any) -> None:
    undeclared, seen = [], 0
    for context in _routes(app):
        route = context.original_route
        if isinstance(route, Mount) or getattr(route, "path", None) in EXEMPT:
            continue
        assert isinstance(route, APIRoute), f"{route!r} is not an APIRoute; declare access on it"
        seen += 1
        declarations = _declarations(context.dependant)
        if len(declarations) != 1:
            undeclared.append((context.path, sorted(route.methods), declarations))
    assert seen > 10
    assert not undeclared, f"routes without exactly one access declaration: {undeclared}"


def test_public_routes_are_few_and_expected(app: Any) -> None:
    public = sorted(
        route.path
        for route in app.routes
        if isinstance(route, APIRoute) and PUBLIC in _declarations(route.dependant)
    )
    allowed_prefixes = (
        "/login",
        "/logout",
        "/preferences/",
        "/api/v1/health",
        "/api/docs",
        "/static",
    )
    assert all(p.startswith(allowed_prefixes) for p in public), public
