"""Alerts: matches of the detection engine (and health checks) turned into deduplicated alerts,
the analyst's queue and triage, and suppression rules. Above `detect` (which has no database),
below `telemetry` (which feeds it) and `incidents` (which escalated alerts open)."""

from civicshield.alerts.assets import AssetIndex
from civicshield.alerts.enums import TRANSITIONS, AlertStatus, Resolution
from civicshield.alerts.queries import (
    Scope,
    alert_counts,
    get_alert,
    list_alerts,
    list_groups,
    load_alert,
)
from civicshield.alerts.record import (
    CONTEXT_FIELDS,
    KEY_FIELDS,
    MATCH_FIELDS,
    RecordReport,
    dedup_key,
    record_matches,
)
from civicshield.alerts.schemas import (
    AlertChangeRead,
    AlertDetail,
    AlertEventRead,
    AlertFilter,
    AlertGroup,
    AlertPage,
    AlertRead,
    SuppressionCreate,
    SuppressionRead,
    TriageRequest,
)
from civicshield.alerts.suppress import (
    SUPPRESSIBLE_FIELDS,
    apply_suppressions,
    create_suppression,
    delete_suppression,
    list_suppressions,
)
from civicshield.alerts.triage import ACTIONS, triage, undo, undo_steps

__all__ = [
    "ACTIONS",
    "CONTEXT_FIELDS",
    "KEY_FIELDS",
    "MATCH_FIELDS",
    "SUPPRESSIBLE_FIELDS",
    "TRANSITIONS",
    "AlertChangeRead",
    "AlertDetail",
    "AlertEventRead",
    "AlertFilter",
    "AlertGroup",
    "AlertPage",
    "AlertRead",
    "AlertStatus",
    "AssetIndex",
    "RecordReport",
    "Resolution",
    "Scope",
    "SuppressionCreate",
    "SuppressionRead",
    "TriageRequest",
    "alert_counts",
    "apply_suppressions",
    "create_suppression",
    "dedup_key",
    "delete_suppression",
    "get_alert",
    "list_alerts",
    "list_groups",
    "list_suppressions",
    "load_alert",
    "record_matches",
    "triage",
    "undo",
    "undo_steps",
]
