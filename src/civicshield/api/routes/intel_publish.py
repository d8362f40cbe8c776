"""/api/v1/intel/... routes (see docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["intel"])
