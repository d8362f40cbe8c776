"""Every ORM model, imported so Alembic sees the whole schema (the one adapter allowed to)."""

from civicshield.accounts.models import ApiToken, User, UserSession
from civicshield.alerts.models import Alert, AlertBatch, AlertChange, AlertEvent, Suppression
from civicshield.assets.models import Asset, AssetChange, Software
from civicshield.audit.models import AuditEntry, AuditHead
from civicshield.incidents.models import Case, CaseAlert, CaseChange, CaseTask
from civicshield.intel.models import IntelIndicator, IntelObject, IntelSource, IntelWarninglist
from civicshield.intel.taxii.models import TaxiiApiRoot
from civicshield.jobs.models import Job, JobLogLine, JobSchedule
from civicshield.store import Base
from civicshield.telemetry.models import IngestMinute, IngestSource, SavedHunt
from civicshield.vulns.models import Cve, Finding, FindingChange, PriorityPolicy, RiskSnapshot

__all__ = [
    "Alert",
    "AlertBatch",
    "AlertChange",
    "AlertEvent",
    "ApiToken",
    "Asset",
    "AssetChange",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Case",
    "CaseAlert",
    "CaseChange",
    "CaseTask",
    "Cve",
    "Finding",
    "FindingChange",
    "IngestMinute",
    "IngestSource",
    "IntelIndicator",
    "IntelObject",
    "IntelSource",
    "IntelWarninglist",
    "Job",
    "JobLogLine",
    "JobSchedule",
    "PriorityPolicy",
    "RiskSnapshot",
    "SavedHunt",
    "Software",
    "Suppression",
    "TaxiiApiRoot",
    "User",
    "UserSession",
]
