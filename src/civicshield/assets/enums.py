"""Asset vocabularies: kind, lifecycle and criticality, each with a label (never colour alone)."""

from __future__ import annotations

from civicshield.core.enums import LabelledEnum
from civicshield.core.i18n import N_

__all__ = ["CRITICALITY_LABELS", "AssetKind", "Lifecycle", "criticality_label"]


class AssetKind(LabelledEnum):
    IT = ("it", N_("IT"), "kind-it")
    IOT = ("iot", N_("IoT"), "kind-iot")
    OT = ("ot", N_("OT"), "kind-ot")


class Lifecycle(LabelledEnum):
    ACTIVE = ("active", N_("Active"), "lifecycle-active")
    RETIRED = ("retired", N_("Retired"), "lifecycle-retired")


# Criticality is the impact on the city if the asset is lost (1 lowest, 5 highest); stored as
# an integer so "criticality >= 4" is one indexed comparison.
CRITICALITY_LABELS: dict[int, str] = {
    1: N_("Minimal"),
    2: N_("Low"),
    3: N_("Moderate"),
    4: N_("High"),
    5: N_("Vital"),
}


def criticality_label(level: int) -> str:
    return CRITICALITY_LABELS[level]
