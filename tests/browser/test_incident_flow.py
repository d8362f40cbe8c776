"""Issue 9's first browser path: an analyst opens an alert, opens a case from it, applies the
ransomware playbook (suggested first for a shadow-copy deletion), approves the backup snapshot
and marks it done, and sees both steps in the case's history. The database is the judge."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from civicshield import alerts, assets, incidents
from civicshield.alerts import AlertFilter, AlertStatus
from civicshield.assets import AssetCreate
from civicshield.core import SYSTEM, Role, Sector
from civicshield.incidents import CaseCreate
from civicshield.runtime import Runtime
from tests.browser.conftest import login
from tests.browser.test_accessibility import _audit
from tests.integration.web.test_alerts import _matches

# Only this test's own alert, under its own rule: seed_queue's alerts would absorb (dedup) the
# matches that the alert browser tests seed later in the same live server, and seed_queue
# takes the oldest alert outside its camera and Modbus rules as its ransomware alert: ours are
# a minute old, newer than the 30-minute-old events it seeds.
RULE = "cs-test-incident-shadowcopy"


def _seed_ransom(rt: Runtime, tag: str) -> int:
    """Shadow copies deleted on a tagged finance workstation (governance): one new alert."""
    host = f"ws-fin-{tag}.city"
    data = AssetCreate.model_validate(
        {"name": f"ws-fin-{tag}", "sector": "governance", "kind": "it", "hostnames": [host]}
    )
    with rt.session() as session:
        assets.create_asset(session, data, actor=SYSTEM, clock=rt.clock)
    rows = [{"_raw": "vssadmin.exe delete shadows /all /quiet", "host.name": host,
             "user.name": f"u{tag}"}] * 2  # fmt: skip
    frame = _matches(
        RULE, "Shadow copies deleted (ransomware precursor)", "high",
        ["attack.impact", "attack.t1490"], "windows.security",
        rt.clock.now() - timedelta(minutes=1), rows,
    )  # fmt: skip
    with rt.session() as session:
        alerts.record_matches(session, frame, batch_id=f"incident-{tag}", clock=rt.clock)
        found = alerts.list_alerts(session, AlertFilter(statuses=[], q=tag), limit=10)
    assert len(found.items) == 1
    return found.items[0].id


pytestmark = pytest.mark.browser


def test_alert_to_case_playbook_and_task(
    page: Any, user_factory: Any, live_runtime: Runtime
) -> None:
    tag = uuid.uuid4().hex[:6]
    ransom = _seed_ransom(live_runtime, tag)
    login(page, user_factory(Role.ANALYST))
    page.goto(f"/alerts?q={tag}")
    with page.expect_navigation():
        page.get_by_test_id(f"alert-link-{ransom}").click()
    with page.expect_navigation():
        page.get_by_test_id("open-case").click()
    assert page.get_by_test_id("case-message").is_visible()
    case_id = int(page.url.split("/incidents/")[1].split("?")[0])
    with live_runtime.session() as session:
        assert alerts.get_alert(session, ransom).status is AlertStatus.ESCALATED
    assert page.get_by_test_id(f"case-alert-link-{ransom}").is_visible()

    # The tab links reach their sections; the suggested playbook comes first.
    page.get_by_test_id("tab-playbook").click()
    select = page.get_by_test_id("playbook-select")
    assert select.input_value() == "ransomware"
    with page.expect_navigation():
        page.get_by_test_id("playbook-apply").click()
    with live_runtime.session() as session:
        case = incidents.get_case(session, case_id)
    assert case.playbook_id == "ransomware"
    task = next(t for t in case.tasks if t.requires_approval)

    # "Done" before the approval is refused with the domain's reason.
    with page.expect_navigation():
        page.get_by_test_id(f"task-done-{task.id}").click()
    assert "must approve it first" in page.get_by_test_id("task-error").inner_text()
    with page.expect_navigation():
        page.get_by_test_id(f"task-approve-{task.id}").click()
    with page.expect_navigation():
        page.get_by_test_id(f"task-done-{task.id}").click()
    assert page.get_by_test_id(f"task-status-{task.id}").inner_text().startswith("Done")
    with live_runtime.session() as session:
        done = next(t for t in incidents.get_case(session, case_id).tasks if t.id == task.id)
    assert done.status == "done" and done.approved_by and done.done_by

    page.get_by_test_id("tab-history").click()
    history = page.get_by_test_id("case-history").inner_text()
    assert f"{task.key}, status=done" in history and "Approval" in history
    assert "ransomware v" in history


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_incident_pages_axe(
    new_page: Any, user_factory: Any, live_runtime: Runtime, scheme: str
) -> None:
    """axe-core finds no serious or critical violation on the incident pages."""
    tag = uuid.uuid4().hex[:6]
    ransom = _seed_ransom(live_runtime, tag)
    with live_runtime.session() as session:
        data = CaseCreate(title=f"Town hall files {tag}", sectors=[Sector.GOVERNANCE])
        case_id = incidents.create_case(session, data, actor=SYSTEM, clock=live_runtime.clock).id
    page = new_page(bypass_csp=True, color_scheme=scheme)  # axe is injected as a script
    login(page, user_factory(Role.ANALYST))
    found: dict[str, list[str]] = {}
    page.goto(f"/alerts/{ransom}")  # with the "Add to case" select
    _audit(page, "alert", found)
    page.goto("/incidents")
    _audit(page, "list", found)
    page.goto(f"/incidents/{case_id}")
    _audit(page, "case", found)
    with page.expect_navigation():
        page.get_by_test_id("playbook-apply").click()
    _audit(page, "case-with-tasks", found)
    for name, url in (
        ("clocks", "/incidents/clocks"),
        ("register", "/incidents/register"),
        ("metrics", "/incidents/metrics"),
        ("report", f"/incidents/{case_id}/report"),
        ("segmentation", "/segmentation"),
    ):
        page.goto(url)
        _audit(page, name, found)
    assert not found, found
