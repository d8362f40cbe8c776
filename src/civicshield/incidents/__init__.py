"""Incident response (issue 9): cases opened by hand, from alerts or from reports, with the
append-only history of their fields, and their tasks. Subpackages, each with its own public API:
`clocks` (pure: jurisdiction profiles as versioned data and the deadline arithmetic), `legal`
(those clocks on cases: start events, risk assessments, investigation holds, reminders),
`notices` (notices per regime and the confidentiality-incident register), `evidence` (encrypted
at rest, chain of custody, tamper detection), `observables` (and related cases), `reporting`
(timeline, incident report, MTTD/MTTR) and `playbooks` (pure: the six city playbooks). Above
`alerts` (escalated alerts open cases)."""

from civicshield.incidents.cases import (
    Scope,
    add_alerts,
    create_case,
    get_case,
    list_cases,
    load_case,
    open_from_alerts,
    update_case,
)
from civicshield.incidents.reports import (
    REPORT_RECEIVED,
    ReportReceived,
    open_from_report,
    report_handler,
)
from civicshield.incidents.schemas import (
    CaseChangeRead,
    CaseCreate,
    CaseDetail,
    CaseFromAlerts,
    CasePage,
    CaseRead,
    CaseStatus,
    CaseUpdate,
    TaskRead,
)
from civicshield.incidents.tasks import (
    TASK_STATUSES,
    apply_playbook,
    approve_task,
    set_task_status,
)

__all__ = [
    "REPORT_RECEIVED",
    "TASK_STATUSES",
    "CaseChangeRead",
    "CaseCreate",
    "CaseDetail",
    "CaseFromAlerts",
    "CasePage",
    "CaseRead",
    "CaseStatus",
    "CaseUpdate",
    "ReportReceived",
    "Scope",
    "TaskRead",
    "add_alerts",
    "apply_playbook",
    "approve_task",
    "create_case",
    "get_case",
    "list_cases",
    "load_case",
    "open_from_alerts",
    "open_from_report",
    "report_handler",
    "set_task_status",
    "update_case",
]
