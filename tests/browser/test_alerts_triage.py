"""Issue 6's browser acceptance: an analyst triages a small realistic queue with the keyboard
only (no clicks after signing in): moves with j/k, acknowledges one alert, escalates another,
closes a third as a false positive, opens an alert, suppresses similar ones, and opens and
closes the key help. The database is the judge."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from civicshield import alerts
from civicshield.alerts import AlertStatus, Resolution
from civicshield.core import Role
from civicshield.runtime import Runtime
from tests.browser.conftest import login
from tests.browser.test_accessibility import _audit
from tests.integration.web.test_alerts import RANSOM_RULE, seed_queue

pytestmark = pytest.mark.browser


def _status(rt: Runtime, alert_id: int) -> tuple[AlertStatus, Resolution | None]:
    with rt.session() as session:
        got = alerts.get_alert(session, alert_id)
    return got.status, got.resolution


def _to(page: Any, index: int) -> None:
    """Select row `index`: k to the top (it stops there), then j down."""
    for _ in range(6):
        page.keyboard.press("k")
    for _ in range(index):
        page.keyboard.press("j")


def test_keyboard_only_triage(page: Any, user_factory: Any, live_runtime: Runtime) -> None:
    tag = uuid.uuid4().hex[:6]
    ids = seed_queue(live_runtime, live_runtime.clock.now(), tag)
    first, second = ids["telnet_198.51.100.7"], ids["telnet_203.0.113.9"]
    login(page, user_factory(Role.ANALYST))
    page.goto(f"/alerts?q={tag}")
    rows = page.locator("[data-alert-row]")
    # Newest first: the camera group (two attackers), then Modbus, then the ransomware precursor.
    assert [rows.nth(i).get_attribute("data-testid") for i in range(rows.count())] == [
        f"alert-row-{i}" for i in (first, second, ids["modbus"], ids["ransom"])
    ]

    # Help: ? opens it, Escape closes it.
    page.keyboard.press("?")
    assert page.get_by_test_id("key-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.get_by_test_id("key-help").is_visible()

    # j/k move a visible selection.
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert page.get_by_test_id(f"alert-row-{first}").get_attribute("aria-selected") == "true"
    page.keyboard.press("j")
    assert page.get_by_test_id(f"alert-row-{second}").get_attribute("aria-selected") == "true"
    assert page.get_by_test_id(f"alert-row-{first}").get_attribute("aria-selected") == "false"

    # a: acknowledge the selected alert; the notice offers to undo it.
    with page.expect_navigation():
        page.keyboard.press("a")
    assert page.get_by_test_id("undo").is_visible()
    assert _status(live_runtime, second)[0] is AlertStatus.ACKNOWLEDGED

    # e: escalate the Modbus write.
    _to(page, 2)
    with page.expect_navigation():
        page.keyboard.press("e")
    assert _status(live_runtime, ids["modbus"])[0] is AlertStatus.ESCALATED

    # x: the resolution is focused; choose "False positive" by typing, Enter closes.
    _to(page, 0)
    page.keyboard.press("x")
    assert page.evaluate("document.activeElement.dataset.testid") == "bulk-resolution"
    page.keyboard.type("False")
    assert page.get_by_test_id("bulk-resolution").input_value() == "false_positive"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert _status(live_runtime, first) == (AlertStatus.CLOSED, Resolution.FALSE_POSITIVE)
    assert page.get_by_test_id(f"alert-row-{first}").count() == 0  # closed: out of the queue

    # / focuses the search box, and keys typed there are text, not commands.
    page.keyboard.press("/")
    page.keyboard.type("ax")
    assert page.get_by_test_id("filter-q").input_value() == "ax"
    assert _status(live_runtime, second)[0] is AlertStatus.ACKNOWLEDGED
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")

    # o opens the selected alert (the ransomware precursor, last row now).
    _to(page, 2)
    with page.expect_navigation():
        page.keyboard.press("o")
    assert page.url.endswith(f"/alerts/{ids['ransom']}")
    assert page.get_by_test_id("alert-rule-author").inner_text() == "CivicShield test rules"

    # s: "suppress similar" with its proposal; Enter submits it.
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.dataset.testid") == "suppress-reason"
    page.keyboard.type("Backup agent on the finance workstation")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_test_id("alerts-message").is_visible()
    with live_runtime.session() as session:
        found = [
            s
            for s in alerts.list_suppressions(session, clock=live_runtime.clock)
            if s.reason == "Backup agent on the finance workstation"
        ]
    assert len(found) == 1 and found[0].rule_id == RANSOM_RULE
    assert found[0].match["user.name"] == "jdoe" and found[0].expires_at is not None


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_alert_pages_axe(
    new_page: Any, user_factory: Any, live_runtime: Runtime, scheme: str
) -> None:
    """axe-core finds no serious or critical violation on the alert pages."""
    tag = uuid.uuid4().hex[:6]
    ids = seed_queue(live_runtime, live_runtime.clock.now(), tag)
    page = new_page(bypass_csp=True, color_scheme=scheme)  # axe is injected as a script
    login(page, user_factory(Role.ANALYST))
    found: dict[str, list[str]] = {}
    page.goto(f"/alerts?q={tag}")
    page.keyboard.press("j")  # with a selected row
    _audit(page, "queue", found)
    for label, url in (
        ("detail", f"/alerts/{ids['ransom']}"),
        ("suppressions", "/alerts/suppressions"),
        ("health", "/alerts/health"),
    ):
        page.goto(url)
        _audit(page, label, found)
    assert not found, found
