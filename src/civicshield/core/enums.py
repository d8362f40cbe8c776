"""Enumerations that carry a label and a colour token, so templates never choose colours.

Colour tokens name CSS custom properties (`--sev-high`, `--tlp-amber`, …) defined for both
themes in `web/static/app.css`; a label is always shown beside a colour (never colour alone).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from civicshield.core.i18n import N_

__all__ = ["LabelledEnum", "Role", "Sector", "Severity", "Tlp"]


class LabelledEnum(StrEnum):
    """A string enum whose members also have `label` (English, translatable) and `colour`."""

    label: str
    colour: str

    def __new__(cls, value: str, label: str = "", colour: str = "neutral") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        member.colour = colour
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def parse(cls, value: str) -> Self:
        """Case-insensitive lookup by value or label, with a message that lists valid values."""
        wanted = value.strip().lower().replace(" ", "_")
        for member in cls:
            if wanted in (member.value, member.label.lower().replace(" ", "_")):
                return member
        valid = ", ".join(m.value for m in cls)
        raise ValueError(f"{value!r} is not a valid {cls.__name__.lower()} (use one of: {valid})")


class Severity(LabelledEnum):
    """Sigma's five rule levels, lowest first."""

    INFORMATIONAL = ("informational", N_("Informational"), "sev-informational")
    LOW = ("low", N_("Low"), "sev-low")
    MEDIUM = ("medium", N_("Medium"), "sev-medium")
    HIGH = ("high", N_("High"), "sev-high")
    CRITICAL = ("critical", N_("Critical"), "sev-critical")

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)


class Tlp(LabelledEnum):
    """FIRST Traffic Light Protocol 2.0 labels."""

    CLEAR = ("clear", N_("TLP:CLEAR"), "tlp-clear")
    GREEN = ("green", N_("TLP:GREEN"), "tlp-green")
    AMBER = ("amber", N_("TLP:AMBER"), "tlp-amber")
    AMBER_STRICT = ("amber+strict", N_("TLP:AMBER+STRICT"), "tlp-amber")
    RED = ("red", N_("TLP:RED"), "tlp-red")


class Role(LabelledEnum):
    ADMIN = ("admin", N_("Administrator"), "role-admin")
    ANALYST = ("analyst", N_("Analyst"), "role-analyst")
    RESPONDER = ("responder", N_("Responder"), "role-responder")
    PRIVACY_OFFICER = ("privacy_officer", N_("Privacy officer"), "role-privacy")
    SECTOR_OPERATOR = ("sector_operator", N_("Sector operator"), "role-operator")
    VIEWER = ("viewer", N_("Viewer"), "role-viewer")


class Sector(LabelledEnum):
    TRANSPORT = ("transport", N_("Transport"), "sector-transport")
    ENERGY = ("energy", N_("Energy"), "sector-energy")
    WATER = ("water", N_("Water"), "sector-water")
    HEALTH = ("health", N_("Health"), "sector-health")
    GOVERNANCE = ("governance", N_("Governance"), "sector-governance")
    PUBLIC_SAFETY = ("public_safety", N_("Public safety"), "sector-public-safety")
    EDUCATION = ("education", N_("Education"), "sector-education")
    OTHER = ("other", N_("Other"), "sector-other")
