"""The notices section of the case page (being built)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from civicshield.incidents import CaseDetail
from civicshield.web.page import Page

__all__ = ["router", "section"]

router = APIRouter()


def section(page: Page, case: CaseDetail) -> dict[str, Any]:
    """What the case page's notices section shows (keys prefixed `notices`)."""
    return {}
