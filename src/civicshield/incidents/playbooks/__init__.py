"""The city playbooks of issue 9 as versioned YAML templates, their loader, the planner that
turns one into tasks with owners and due times, and `suggest` for an alert. Pure: no database.

    playbooks = load_playbooks()
    tasks = plan(playbooks["ransomware"], start=case_started_at, lang="fr-CA")
    ranked = suggest(["attack.t1486"], [], ["governance"])

Format and the six shipped playbooks: docs/incident-playbooks.md.
"""

from civicshield.incidents.playbooks.loader import TEMPLATES, load_playbook_file, load_playbooks
from civicshield.incidents.playbooks.model import (
    AppliesTo,
    AutomatedAction,
    ClockRule,
    Phase,
    PlannedTask,
    Playbook,
    Task,
    Text,
)
from civicshield.incidents.playbooks.planner import plan, suggest
from civicshield.incidents.playbooks.vocabulary import (
    APPROVAL_TARGETS,
    CONDITIONS,
    OBLIGATION_IDS,
    PHASES,
    PLATFORM_ROLES,
)

__all__ = [
    "APPROVAL_TARGETS",
    "CONDITIONS",
    "OBLIGATION_IDS",
    "PHASES",
    "PLATFORM_ROLES",
    "TEMPLATES",
    "AppliesTo",
    "AutomatedAction",
    "ClockRule",
    "Phase",
    "PlannedTask",
    "Playbook",
    "Task",
    "Text",
    "load_playbook_file",
    "load_playbooks",
    "plan",
    "suggest",
]
