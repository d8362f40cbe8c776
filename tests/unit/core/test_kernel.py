"""Enums with labels and colours, the error tree, clocks, events and document templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from civicshield.core import (
    CivicShieldError,
    FrozenClock,
    Invalid,
    NotFound,
    Role,
    RuleError,
    Sector,
    Severity,
    Tlp,
)
from civicshield.core.events import DomainEvent, EventBus
from civicshield.core.templating import DocumentRenderer


def test_severity_has_sigma_levels_in_order_with_tokens() -> None:
    assert [s.value for s in Severity] == ["informational", "low", "medium", "high", "critical"]
    assert Severity.CRITICAL.rank > Severity.HIGH.rank > Severity.INFORMATIONAL.rank
    assert all(s.colour == f"sev-{s.value}" and s.label for s in Severity)


def test_tlp_2_0_and_sectors() -> None:
    assert [t.label for t in Tlp] == [
        "TLP:CLEAR",
        "TLP:GREEN",
        "TLP:AMBER",
        "TLP:AMBER+STRICT",
        "TLP:RED",
    ]
    assert {s.value for s in Sector} == {
        "transport",
        "energy",
        "water",
        "health",
        "governance",
        "public_safety",
        "education",
        "other",
    }
    assert len(Role) == 6


def test_parse_accepts_labels_and_explains_failures() -> None:
    assert Sector.parse("Public safety") is Sector.PUBLIC_SAFETY
    assert Role.parse("ANALYST") is Role.ANALYST
    with pytest.raises(ValueError, match="use one of: admin, analyst"):
        Role.parse("root")


def test_error_tree_and_locations() -> None:
    assert issubclass(NotFound, CivicShieldError) and NotFound("x").status == 404
    error = RuleError("unknown modifier 'foo'", source="rules/x.yml", line=12, column=3)
    assert str(error) == "rules/x.yml:12:3: unknown modifier 'foo'"
    assert isinstance(error, Invalid) and error.status == 422


def test_frozen_clock() -> None:
    clock = FrozenClock(datetime(2026, 3, 8, 9, 59, tzinfo=UTC))
    clock.advance(timedelta(hours=1))
    assert clock.now() == datetime(2026, 3, 8, 10, 59, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        FrozenClock(datetime(2026, 1, 1))  # noqa: DTZ001


def test_event_bus_delivers_to_subscribers() -> None:
    bus, seen = EventBus(), []
    bus.subscribe("report_received", lambda e: seen.append(e.payload["id"]))
    assert bus.publish(DomainEvent("report_received", {"id": 7})) == 1
    assert bus.publish(DomainEvent("other")) == 0
    assert seen == [7]


def test_documents_render_escaped_localised_and_strict(tmp_path: Path) -> None:
    (tmp_path / "notice.html").write_text(
        "<p>{{ _('Severity') }}: {{ name }} {{ at|localtime('short') }}</p>", encoding="utf-8"
    )
    (tmp_path / "notice.txt").write_text("{{ name }} {{ missing }}", encoding="utf-8")
    renderer = DocumentRenderer([tmp_path])
    at = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)
    html = renderer.render(
        "notice.html", {"name": "<b>x</b>", "at": at}, timezone="America/Tijuana"
    )
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "10:30" in html
    with pytest.raises(RuleError, match="missing"):
        renderer.render("notice.txt", {"name": "x"})
