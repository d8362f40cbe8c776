"""Legal clocks put to work on cases: start clocks (those the playbook suggests, or any offered
obligation), record start events, risk assessments and investigation holds (each audited and in
the case's history), see each clock's deadline and status, and raise escalating reminders.

    config = LegalConfig.from_settings(settings)
    start_clock(session, case_id, "qc-a21.cai", config=config, actor=actor, clock=clock)
    views = case_clocks(session, case_id, now=clock.now(), settings_or_config=config)

The deadline arithmetic is the pure `civicshield.incidents.clocks`; see docs/incident-clocks.md.
"""

from civicshield.incidents.legal.config import LegalConfig, config_of
from civicshield.incidents.legal.jobs import JOBS, REMINDERS_JOB
from civicshield.incidents.legal.records import (
    lift_hold,
    list_assessments,
    list_holds,
    place_hold,
    record_assessment,
)
from civicshield.incidents.legal.reminders import (
    acknowledge_reminder,
    list_reminders,
    raise_reminders,
)
from civicshield.incidents.legal.schemas import (
    AssessmentCreate,
    AssessmentRead,
    ClockRead,
    ClockStart,
    ClockSuggestion,
    ClockWithdraw,
    HoldCreate,
    HoldRead,
    ReminderRead,
    StartEventCreate,
    StartEventRead,
)
from civicshield.incidents.legal.service import (
    list_start_events,
    record_start_event,
    start_clock,
    suggest_clocks,
    withdraw_clock,
)
from civicshield.incidents.legal.views import (
    ClockView,
    DueClock,
    ReminderView,
    RequirementState,
    case_clocks,
    clocks_due,
)

__all__ = [
    "JOBS",
    "REMINDERS_JOB",
    "AssessmentCreate",
    "AssessmentRead",
    "ClockRead",
    "ClockStart",
    "ClockSuggestion",
    "ClockView",
    "ClockWithdraw",
    "DueClock",
    "HoldCreate",
    "HoldRead",
    "LegalConfig",
    "ReminderRead",
    "ReminderView",
    "RequirementState",
    "StartEventCreate",
    "StartEventRead",
    "acknowledge_reminder",
    "case_clocks",
    "clocks_due",
    "config_of",
    "lift_hold",
    "list_assessments",
    "list_holds",
    "list_reminders",
    "list_start_events",
    "place_hold",
    "raise_reminders",
    "record_assessment",
    "record_start_event",
    "start_clock",
    "suggest_clocks",
    "withdraw_clock",
]
