"""Finding vocabularies: status and SSVC decision, each with a label and a colour token."""

from __future__ import annotations

from civicshield.core.enums import LabelledEnum
from civicshield.core.i18n import N_

__all__ = ["CLOSED_STATUSES", "Decision", "FindingStatus"]


class FindingStatus(LabelledEnum):
    OPEN = ("open", N_("Open"), "status-open")
    IN_PROGRESS = ("in_progress", N_("In progress"), "status-progress")
    MITIGATED = ("mitigated", N_("Mitigated"), "status-mitigated")
    ACCEPTED = ("accepted", N_("Accepted risk"), "status-accepted")
    FALSE_POSITIVE = ("false_positive", N_("False positive"), "status-false-positive")
    FIXED = ("fixed", N_("Fixed"), "status-fixed")


# A finding in one of these states needs no work and is not counted in risk or overdue.
CLOSED_STATUSES = frozenset({FindingStatus.FALSE_POSITIVE, FindingStatus.FIXED})


class Decision(LabelledEnum):
    """CISA's SSVC coordinator outcomes, least urgent first (rank is the order)."""

    TRACK = ("track", N_("Track"), "decision-track")
    TRACK_STAR = ("track_star", N_("Track*"), "decision-track-star")
    ATTEND = ("attend", N_("Attend"), "decision-attend")
    ACT = ("act", N_("Act"), "decision-act")

    @property
    def rank(self) -> int:
        return list(type(self)).index(self)
