"""A `report_received` domain event (a fixture: the awareness capability will publish it) opens
a case in triage through the subscriber the runtime registers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from civicshield.core import Sector
from civicshield.core.events import DomainEvent
from civicshield.incidents import REPORT_RECEIVED, get_case, list_cases
from civicshield.incidents.schemas import CaseStatus
from civicshield.runtime import Runtime

REPORT = {
    "report_id": 41,
    "kind": "citizen",
    "title": "Strange login page on the water bill portal",
    "description": "The payment page asked for my bank PIN.",
    "category": "phishing",
    "sector": "water",
    "severity": "high",
    "reported_at": "2026-11-22T09:30:00-08:00",
    "contact_email": "never-copied@example.org",
}


def test_a_report_opens_a_case_in_triage(runtime: Runtime) -> None:
    assert runtime.events.publish(DomainEvent(REPORT_RECEIVED, REPORT)) == 1
    with runtime.session() as s:
        [case] = list_cases(s).items
        detail = get_case(s, case.id)
    assert detail.source == "report" and detail.status is CaseStatus.TRIAGE
    assert detail.title == "Report 41: Strange login page on the water bill portal"
    assert detail.sectors == [Sector.WATER] and detail.severity.value == "high"
    assert "bank PIN" in detail.description and "never-copied" not in detail.description
    assert [h.new for h in detail.history if h.field == "status"] == ["new", "triage"]
    assert detail.history[-1].actor == "system:reports"


def test_a_malformed_report_is_refused_and_opens_nothing(runtime: Runtime) -> None:
    with pytest.raises(ValidationError):
        runtime.events.publish(DomainEvent(REPORT_RECEIVED, {"report_id": 1, "title": "x"}))
    with runtime.session() as s:
        assert list_cases(s).total == 0
