"""Alert statuses and closing reasons, each with a label and a colour token for the UI."""

from __future__ import annotations

from civicshield.core.enums import LabelledEnum
from civicshield.core.i18n import N_

__all__ = ["TRANSITIONS", "AlertStatus", "Resolution"]


class AlertStatus(LabelledEnum):
    NEW = ("new", N_("New"), "status-new")
    ACKNOWLEDGED = ("acknowledged", N_("Acknowledged"), "status-acknowledged")
    ESCALATED = ("escalated", N_("Escalated"), "status-escalated")
    CLOSED = ("closed", N_("Closed"), "status-closed")


class Resolution(LabelledEnum):
    """Why an alert was closed."""

    TRUE_POSITIVE = ("true_positive", N_("True positive"), "res-true-positive")
    FALSE_POSITIVE = ("false_positive", N_("False positive"), "res-false-positive")
    BENIGN = ("benign", N_("Benign"), "res-benign")
    DUPLICATE = ("duplicate", N_("Duplicate"), "res-duplicate")


# Which status each one may move to (reopening a closed alert makes it new again).
TRANSITIONS: dict[AlertStatus, frozenset[AlertStatus]] = {
    AlertStatus.NEW: frozenset(
        {AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED, AlertStatus.CLOSED}
    ),
    AlertStatus.ACKNOWLEDGED: frozenset({AlertStatus.ESCALATED, AlertStatus.CLOSED}),
    AlertStatus.ESCALATED: frozenset({AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED}),
    AlertStatus.CLOSED: frozenset({AlertStatus.NEW}),
}
