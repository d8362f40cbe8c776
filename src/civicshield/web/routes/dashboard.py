"""The dashboard: real facts about the platform, each shown only to roles allowed to see it.

The chain status comes from the last scheduled `audit.verify` job rather than a fresh walk of
the chain, so opening the dashboard stays cheap however long the log grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session
from starlette.responses import Response

from civicshield import accounts, audit, jobs
from civicshield.accounts import Permission
from civicshield.audit import AuditEntryRead
from civicshield.core.enums import Role
from civicshield.jobs import JobRead, JobStatus
from civicshield.web.deps import require
from civicshield.web.page import Page
from civicshield.web.routes import incidents_clocks, incidents_reports, intel

__all__ = ["router"]

router = APIRouter()
VERIFY_JOB = "audit.verify"


@dataclass(frozen=True)
class AuditFacts:
    recent: list[AuditEntryRead]
    total: int
    last_check: JobRead | None


def _users_by_role(session: Session) -> list[tuple[Role, int]]:
    return list(accounts.count_users_by_role(session, active_only=False).items())


def _job_counts(session: Session) -> list[tuple[JobStatus, int]]:
    return list(jobs.count_by_status(session).items())


def _audit_facts(session: Session) -> AuditFacts:
    page = audit.list_entries(session, limit=5)
    checks = jobs.list_jobs(session, name=VERIFY_JOB, limit=5).items
    finished = [j for j in checks if j.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)]
    return AuditFacts(
        recent=page.items, total=page.total, last_check=finished[0] if finished else None
    )


@router.get("/")
def dashboard(page: Annotated[Page, Depends(require(Permission.DASHBOARD_VIEW))]) -> Response:
    with page.runtime.session() as session:
        users = _users_by_role(session)
        job_counts = _job_counts(session) if page.can(Permission.JOBS_READ) else None
        audit_facts = _audit_facts(session) if page.can(Permission.AUDIT_READ) else None
    intel_card = intel.dashboard_card(page) if page.can(Permission.INTEL_READ) else None
    panels: dict[str, Any] = {}
    if page.can(Permission.INCIDENTS_READ):  # clocks due soon, response metrics
        panels = {**incidents_clocks.due_panel(page), **incidents_reports.metrics_panel(page)}
    return page.render(
        "dashboard/index.html",
        nav_key="dashboard",
        users_by_role=users,
        users_total=sum(n for _, n in users),
        job_counts=job_counts,
        audit_facts=audit_facts,
        intel_card=intel_card,
        incidents_panels=bool(panels),
        **panels,
    )
