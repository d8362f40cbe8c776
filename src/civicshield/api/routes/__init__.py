"""One router per resource, gathered under `/api/v1` (the docs page lives at `/api/docs`)."""

from fastapi import APIRouter

from civicshield.api.routes import (
    alerts,
    assets,
    audit,
    docs,
    events,
    health,
    incidents,
    ingest,
    jobs,
    me,
    meta,
    rules,
    tokens,
    users,
    vulns,
)

__all__ = ["API_PREFIX", "api_router", "docs_router"]

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
for _module in (
    health, meta, me, users, tokens, audit, jobs, rules, assets, vulns, events, ingest, alerts,
    incidents,
):  # fmt: skip
    api_router.include_router(_module.router)

docs_router = docs.router
