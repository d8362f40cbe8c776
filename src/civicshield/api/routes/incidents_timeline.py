"""`/api/v1/incidents/...`: timeline of a case (being built)."""

from __future__ import annotations

from civicshield.api.openapi import resource_router

__all__ = ["router"]

router = resource_router("/incidents", "incidents")
