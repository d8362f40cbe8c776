"""Legal reporting clocks (pure: no database, no web).

Jurisdiction profiles are versioned YAML data (`profiles/*.yaml`); `load_profiles` validates
them, `with_targets` applies a city's internal targets for "promptly"-type duties, and the
arithmetic follows the conventions of `docs/incident-clocks.md`: hours on the UTC time line,
calendar months on the UTC calendar (clamped), local input with its IANA zone (ambiguous or
non-existent wall times refused unless the earlier instant is accepted and flagged).

    profiles = with_targets({"qc-a21.cai": 48}, load_profiles())
    start = parse_local("2026-03-07 20:00", "America/Toronto")
    due = compute(profiles["qc-a21"].obligation("qc-a21.cai"), start.utc)
    display(due.due_at, "America/Toronto")  # '2026-03-09 20:00 EDT (UTC-04:00)'
"""

from civicshield.incidents.clocks.deadline import (
    Due,
    HoldPolicy,
    Reminder,
    StartEvent,
    Status,
    Suspension,
    compute,
    pick_start,
    reminders,
    retain_until,
    status,
)
from civicshield.incidents.clocks.instants import (
    Instant,
    add_hours,
    add_local_months,
    add_months,
    display,
    parse_local,
)
from civicshield.incidents.clocks.loader import (
    PROFILES_DIR,
    load_profile,
    load_profiles,
    obligation,
    with_targets,
)
from civicshield.incidents.clocks.model import (
    REGISTER_OBLIGATIONS,
    REQUIREMENTS,
    START_EVENTS,
    Deadline,
    DeadlineKind,
    Localized,
    NoticeField,
    Obligation,
    Profile,
    Retention,
    StartEventKind,
)

__all__ = [
    "PROFILES_DIR",
    "REGISTER_OBLIGATIONS",
    "REQUIREMENTS",
    "START_EVENTS",
    "Deadline",
    "DeadlineKind",
    "Due",
    "HoldPolicy",
    "Instant",
    "Localized",
    "NoticeField",
    "Obligation",
    "Profile",
    "Reminder",
    "Retention",
    "StartEvent",
    "StartEventKind",
    "Status",
    "Suspension",
    "add_hours",
    "add_local_months",
    "add_months",
    "compute",
    "display",
    "load_profile",
    "load_profiles",
    "obligation",
    "parse_local",
    "pick_start",
    "reminders",
    "retain_until",
    "status",
    "with_targets",
]
