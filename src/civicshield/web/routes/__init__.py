"""Web routes, one module per area; `ROUTERS` is what `civicshield.web.install` includes."""

from __future__ import annotations

from fastapi import APIRouter

from civicshield.web.routes import (
    audit,
    auth,
    dashboard,
    jobs,
    preferences,
    profile,
    rules,
    tokens,
    users,
    users_edit,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    dashboard.router,
    users.router,
    users_edit.router,
    tokens.router,
    audit.router,
    jobs.router,
    rules.router,
    profile.router,
    preferences.router,
)
