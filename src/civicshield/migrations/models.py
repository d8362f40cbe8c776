"""Every ORM model, imported so Alembic sees the whole schema (the one adapter allowed to)."""

from civicshield.accounts.models import ApiToken, User, UserSession
from civicshield.audit.models import AuditEntry, AuditHead
from civicshield.jobs.models import Job, JobLogLine, JobSchedule
from civicshield.store import Base

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Job",
    "JobLogLine",
    "JobSchedule",
    "User",
    "UserSession",
]
