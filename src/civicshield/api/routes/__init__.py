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
    incidents_clocks,
    incidents_evidence,
    incidents_notices,
    incidents_timeline,
    ingest,
    intel,
    intel_peers,
    intel_publish,
    jobs,
    me,
    meta,
    rules,
    segmentation,
    tokens,
    users,
    vulns,
)

__all__ = ["API_PREFIX", "api_router", "docs_router"]

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
for _module in (
    health, meta, me, users, tokens, audit, jobs, rules, segmentation, assets, vulns, events,
    ingest, alerts, intel_peers, intel_publish, intel,
    # before incidents: /incidents/register, /metrics and /clocks are not case ids
    incidents_notices, incidents_timeline, incidents_clocks, incidents, incidents_evidence,
):  # fmt: skip
    api_router.include_router(_module.router)

docs_router = docs.router
