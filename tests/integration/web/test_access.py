"""Deny by default: each role sees the pages its permissions allow and a friendly 403 else."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from civicshield.core import Role
from civicshield.http import PUBLIC, declared_access

PAGES = [
    "/",
    "/admin/users",
    "/admin/users/new",
    "/admin/roles",
    "/tokens",
    "/audit",
    "/jobs",
    "/profile",
]
ALLOWED = {
    Role.ADMIN: set(PAGES),
    Role.ANALYST: {"/", "/tokens", "/audit", "/jobs", "/profile"},
    Role.SECTOR_OPERATOR: {"/", "/tokens", "/profile"},
    Role.VIEWER: {"/", "/profile"},
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_pages_per_role(as_role: Any, role: Role) -> None:
    client = as_role(role)
    for path in PAGES:
        response = client.get(path, follow_redirects=False)
        expected = 200 if path in ALLOWED[role] else 403
        assert response.status_code == expected, (role, path)


def test_refusal_page_is_friendly(as_role: Any) -> None:
    response = as_role(Role.ANALYST).get("/admin/users")
    assert response.status_code == 403
    assert "Your role may not open this page." in response.text
    assert 'data-testid="error-home"' in response.text
    assert "users:read" not in response.text  # no internals on the page


def test_navigation_shows_only_permitted_entries(as_role: Any) -> None:
    page = as_role(Role.VIEWER).get("/").text
    assert 'data-testid="nav-dashboard"' in page
    assert 'data-testid="nav-users"' not in page
    assert 'data-testid="nav-audit"' not in page
    assert 'data-testid="nav-inventory"' in page and "coming soon" in page


def test_post_routes_check_the_permission_too(as_role: Any) -> None:
    from tests.integration.web.support import post_form

    viewer = as_role(Role.VIEWER)
    response = post_form(viewer, "/", "/admin/users/new", {"username": "x"})
    assert response.status_code == 403


def test_every_web_route_declares_access(app: Any) -> None:
    checked = 0
    # FastAPI keeps included routers lazily; iter_route_contexts flattens them.
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path.startswith("/api/"):
            continue
        marks = [
            declared_access(d.call)
            for d in context.dependant.dependencies
            if d.call is not None and declared_access(d.call) is not None
        ]
        assert len(marks) == 1, context.path
        if marks[0] == PUBLIC:
            assert context.path.startswith(("/login", "/logout", "/preferences/")), context.path
        checked += 1
    assert checked >= 25
