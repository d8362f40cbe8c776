"""Cases from reports: the `report_received` domain event (the awareness capability will
publish it when a citizen or a staff member reports something; tests publish a fixture) opens a
case in triage with the report's text, category and sector.

The handler runs in its own unit of work: a report is already stored by its publisher, and a
failure here must not lose it (the error is logged by the bus's caller; the report stays).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector, Severity
from civicshield.core.events import DomainEvent
from civicshield.incidents.cases import create_case, update_case
from civicshield.incidents.schemas import CaseCreate, CaseRead, CaseStatus, CaseUpdate

__all__ = ["REPORT_RECEIVED", "ReportReceived", "open_from_report", "report_handler"]

REPORT_RECEIVED = "report_received"
_REPORTS = Actor(kind="system", name="reports")


class ReportReceived(BaseModel):
    """What the awareness capability says of a report (never the reporter's contact details:
    those stay with the report)."""

    model_config = ConfigDict(extra="ignore")

    report_id: int
    kind: str = Field(default="citizen", pattern="^(citizen|staff)$")
    title: str = Field(min_length=3, max_length=300)
    description: str = Field(default="", max_length=20_000)
    category: str = Field(default="other", max_length=64)
    sector: Sector | None = None
    severity: Severity = Severity.MEDIUM
    reported_at: datetime


def open_from_report(session: Session, report: ReportReceived, *, clock: Clock) -> CaseRead:
    """A case in triage for the report (source `report`)."""
    created = create_case(
        session,
        CaseCreate(
            title=f"Report {report.report_id}: {report.title}"[:300],
            description=(
                f"{report.kind.capitalize()} report {report.report_id} ({report.category}), "
                f"received {report.reported_at.isoformat()}.\n\n{report.description}"
            )[:20_000],
            severity=report.severity,
            sectors=[report.sector] if report.sector else [],
        ),
        actor=_REPORTS,
        clock=clock,
        source="report",
    )
    return update_case(
        session,
        created.id,
        CaseUpdate(status=CaseStatus.TRIAGE, reason=f"opened from report {report.report_id}"),
        actor=_REPORTS,
        clock=clock,
    )


def report_handler(
    unit_of_work: Callable[[], AbstractContextManager[Session]], clock: Clock
) -> Callable[[DomainEvent], None]:
    """The `report_received` subscriber the runtime registers."""

    def handle(event: DomainEvent) -> None:
        report = ReportReceived.model_validate(event.payload)
        with unit_of_work() as session:
            open_from_report(session, report, clock=clock)

    return handle
