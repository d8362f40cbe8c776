"""`GET /api/v1/health`: public liveness probe with a database check (for load balancers)."""

from __future__ import annotations

import logging

from fastapi import Depends

from civicshield import __version__
from civicshield.api.deps import RuntimeDep, public
from civicshield.api.errors import ServiceUnavailable
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Health

__all__ = ["router"]

log = logging.getLogger(__name__)
router = resource_router("/health", "meta", public=True)


@router.get(
    "",
    dependencies=[Depends(public())],
    responses=problems(503),
    summary="Is the service up, and can it reach its database?",
)
def health(runtime: RuntimeDep) -> Health:
    """`200 {status: "ok", ...}` when the database answers; otherwise a 503 problem (the
    reason is logged, never shown: this route is public)."""
    try:
        runtime.db.check_connection()
    except Exception as exc:  # any failure to reach the database means "not healthy"
        log.warning("health check: database unreachable: %s", exc)
        raise ServiceUnavailable("the database cannot be reached") from None
    return Health(status="ok", version=__version__, database="ok")
