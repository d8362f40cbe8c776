"""`GET /api/v1/meta/enums`: the labelled enumerations clients show (value, label, colour)."""

from __future__ import annotations

from fastapi import Depends

from civicshield.accounts import Permission
from civicshield.api.deps import require
from civicshield.api.openapi import resource_router
from civicshield.api.schemas import EnumMember, Enums
from civicshield.core import LabelledEnum, Role, Sector, Severity, Tlp

__all__ = ["router"]

router = resource_router("/meta", "meta")


def _members(enum: type[LabelledEnum]) -> list[EnumMember]:
    return [EnumMember(value=m.value, label=m.label, colour=m.colour) for m in enum]


@router.get(
    "/enums",
    dependencies=[Depends(require(Permission.DASHBOARD_VIEW))],
    summary="Severities, TLP labels, sectors and roles, each with label and colour token",
)
def enums() -> Enums:
    """Labels are English; colour tokens name CSS custom properties of the web themes."""
    return Enums(
        severity=_members(Severity),
        tlp=_members(Tlp),
        sector=_members(Sector),
        role=_members(Role),
    )
