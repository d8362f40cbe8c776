"""Incident pages: the case list and the case page per role, a case opened from an alert (and
from the queue's bulk form), status changes kept in the history, closing without a resolution,
a playbook applied, an automated action approved then done, sector scope, and refusals (viewer,
CSRF). The alert queue is seeded by the alert tests' `seed_queue`; the database is the judge.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from civicshield import alerts, incidents
from civicshield.alerts import AlertStatus
from civicshield.core import SYSTEM, Role, Sector
from civicshield.incidents import CaseCreate, CaseDetail, CaseStatus
from civicshield.runtime import Runtime
from tests.integration.web.support import csrf_from, post_form
from tests.integration.web.test_alerts import seed_queue


@pytest.fixture
def queue(runtime: Runtime) -> dict[str, int]:
    return seed_queue(runtime, runtime.clock.now())


def _case(rt: Runtime, case_id: int) -> CaseDetail:
    with rt.session() as session:
        return incidents.get_case(session, case_id)


def _new_case(rt: Runtime, title: str, sectors: list[Sector]) -> int:
    with rt.session() as session:
        data = CaseCreate(title=title, sectors=sectors)
        return incidents.create_case(session, data, actor=SYSTEM, clock=rt.clock).id


def _case_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:2000]
    match = re.match(r"/incidents/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def _rows(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-testid="case-row-(\d+)"', html)}


def test_list_and_detail_render_per_role(runtime: Runtime, as_role: Any) -> None:
    water = _new_case(runtime, "Pump station PLC writes", [Sector.WATER])
    closed = _new_case(runtime, "Old phishing wave", [Sector.GOVERNANCE])
    with runtime.session() as session:
        incidents.update_case(
            session,
            closed,
            incidents.CaseUpdate(status=CaseStatus.CLOSED, resolution="mail purged"),
            actor=SYSTEM,
            clock=runtime.clock,
        )
    analyst = as_role(Role.ANALYST)
    html = analyst.get("/incidents").text
    assert _rows(html) == {water}  # open only by default
    assert 'data-testid="nav-incidents"' in html and 'href="/incidents"' in html
    assert 'data-testid="new-case-form"' in html and "Water" in html
    assert _rows(analyst.get("/incidents?status=any").text) == {water, closed}
    assert _rows(analyst.get("/incidents?status=closed").text) == {closed}
    assert _rows(analyst.get("/incidents?status=any&sector=governance").text) == {closed}
    assert _rows(analyst.get("/incidents?status=any&q=pump").text) == {water}
    detail = analyst.get(f"/incidents/{water}").text
    for section in ("summary", "alerts", "tasks", "playbook", "history"):
        assert f'id="{section}"' in detail and f'data-testid="tab-{section}"' in detail
    assert 'data-testid="case-form"' in detail and 'data-testid="playbook-form"' in detail
    for role in (Role.VIEWER, Role.PRIVACY_OFFICER):
        client = as_role(role)
        listing = client.get("/incidents?status=any")
        assert listing.status_code == 200 and _rows(listing.text) == {water, closed}
        assert 'data-testid="new-case-form"' not in listing.text
        shown = client.get(f"/incidents/{water}").text
        assert "Pump station PLC writes" in shown
        assert "case-form" not in shown and "playbook-form" not in shown
    assert analyst.get("/incidents/999999").status_code == 404


def test_new_case_by_hand_and_its_errors(runtime: Runtime, as_role: Any) -> None:
    client = as_role(Role.ANALYST)
    bad = post_form(client, "/incidents", "/incidents", {"title": "x", "severity": "high"})
    assert bad.status_code == 422 and 'data-testid="error-title"' in bad.text
    made = post_form(
        client,
        "/incidents",
        "/incidents",
        {"title": "Defaced portal", "severity": "high", "sectors": ["governance"]},
    )
    case = _case(runtime, _case_id(made))
    assert case.title == "Defaced portal" and case.sectors == [Sector.GOVERNANCE]
    operator = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    outside = post_form(
        operator, "/incidents", "/incidents", {"title": "Mine", "sectors": "energy"}
    )
    assert outside.status_code == 422 and 'data-testid="error-sectors"' in outside.text


def test_open_a_case_from_an_alert_and_add_another(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    client = as_role(Role.ANALYST)
    url = f"/alerts/{queue['ransom']}"
    page = client.get(url).text
    assert 'data-testid="open-case-form"' in page and "add-to-case-form" not in page
    case_id = _case_id(post_form(client, url, url + "/case"))
    case = _case(runtime, case_id)
    assert case.alert_ids == [queue["ransom"]] and case.sectors == [Sector.GOVERNANCE]
    with runtime.session() as session:
        assert alerts.get_alert(session, queue["ransom"]).status is AlertStatus.ESCALATED
    detail = client.get(f"/incidents/{case_id}?done=opened").text
    assert f'href="/alerts/{queue["ransom"]}"' in detail and 'data-testid="case-message"' in detail
    # The shadow-copy deletion (T1490) suggests the ransomware playbook first.
    options = re.findall(
        r'<option value="([a-z-]+)"', detail.split("playbook-select")[1].split("</select>")[0]
    )
    assert options[0] == "ransomware" and len(options) == 6
    # "Add to case": the Modbus alert joins the same case.
    modbus = f"/alerts/{queue['modbus']}"
    assert f'<option value="{case_id}">' in client.get(modbus).text
    added = post_form(client, modbus, modbus + "/case", {"case_id": case_id})
    assert _case_id(added) == case_id
    assert set(_case(runtime, case_id).alert_ids) == {queue["ransom"], queue["modbus"]}
    # An alert already in a case cannot open another one: the reason is shown.
    again = post_form(client, url, url + "/case")
    assert again.status_code == 409 and 'data-testid="case-error"' in again.text
    assert f"is in case {case_id}" in again.text


def test_open_a_case_from_the_queue(runtime: Runtime, as_role: Any, queue: dict[str, int]) -> None:
    client = as_role(Role.ANALYST)
    assert 'data-testid="bulk-open-case"' in client.get("/alerts").text
    ids = [queue["telnet_203.0.113.9"], queue["telnet_198.51.100.7"]]
    case_id = _case_id(post_form(client, "/alerts", "/alerts/case", {"ids": ids}))
    assert sorted(_case(runtime, case_id).alert_ids) == sorted(ids)
    nothing = post_form(client, "/alerts", "/alerts/case", {})
    assert nothing.status_code == 422 and 'data-testid="bulk-error"' in nothing.text


def test_status_change_history_and_closing_needs_a_resolution(
    runtime: Runtime, as_role: Any
) -> None:
    case_id = _new_case(runtime, "Camera botnet", [Sector.PUBLIC_SAFETY])
    client = as_role(Role.ANALYST)
    url = f"/incidents/{case_id}"
    done = post_form(
        client,
        url,
        url,
        {"status": "contain", "severity": "high", "owner": "rosa", "reason": "C2 confirmed"},
    )
    assert done.status_code == 303
    case = _case(runtime, case_id)
    assert case.status is CaseStatus.CONTAIN and case.owner == "rosa"
    history = client.get(url).text.split('data-testid="case-history"')[1]
    assert "C2 confirmed" in history
    assert "new → contain" in history and "rosa" in history
    refused = post_form(client, url, url, {"status": "closed", "owner": "rosa"})
    assert refused.status_code == 422 and 'data-testid="error-resolution"' in refused.text
    assert "say how the incident ended" in refused.text
    assert _case(runtime, case_id).status is CaseStatus.CONTAIN
    closed = post_form(client, url, url, {"status": "closed", "resolution": "cameras reflashed"})
    assert closed.status_code == 303 and _case(runtime, case_id).status is CaseStatus.CLOSED


def test_apply_a_playbook_approve_then_done(runtime: Runtime, as_role: Any) -> None:
    case_id = _new_case(runtime, "Encrypted file server", [Sector.GOVERNANCE])
    client = as_role(Role.ANALYST)
    url = f"/incidents/{case_id}"
    applied = post_form(client, url, url + "/playbook", {"playbook_id": "ransomware"})
    assert applied.status_code == 303
    case = _case(runtime, case_id)
    assert case.playbook_id == "ransomware" and len(case.tasks) == 10
    page = client.get(url).text
    assert 'data-testid="case-playbook-applied"' in page and "playbook-form" not in page
    task = next(t for t in case.tasks if t.requires_approval)
    assert f'data-testid="task-approve-{task.id}"' in page
    task_url = f"{url}/tasks/{task.id}"
    early = post_form(client, url, task_url, {"action": "done"})
    assert early.status_code == 409 and 'data-testid="task-error"' in early.text
    assert "must approve it first" in early.text
    assert post_form(client, url, task_url, {"action": "approve"}).status_code == 303
    assert post_form(client, url, task_url, {"action": "done"}).status_code == 303
    after = next(t for t in _case(runtime, case_id).tasks if t.id == task.id)
    assert after.status == "done" and after.approved_by
    history = client.get(url).text.split('data-testid="case-history"')[1]
    assert task.key in history and "status=done" in history
    other = post_form(client, url, url + "/playbook", {"playbook_id": "phishing-bec"})
    assert other.status_code == 409 and 'data-testid="playbook-error"' in other.text


def test_sector_operator_sees_only_their_sectors(runtime: Runtime, as_role: Any) -> None:
    water = _new_case(runtime, "Pump writes", [Sector.WATER])
    town_hall = _new_case(runtime, "Town hall ransomware", [Sector.GOVERNANCE])
    client = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert _rows(client.get("/incidents?status=any").text) == {water}
    assert client.get(f"/incidents/{water}").status_code == 200
    assert client.get(f"/incidents/{town_hall}").status_code == 404
    token = csrf_from(client.get("/incidents").text)
    for path, data in (
        ("", {"status": "triage"}),
        ("/playbook", {"playbook_id": "ransomware"}),
    ):
        response = client.post(
            f"/incidents/{town_hall}{path}",
            data={"csrf_token": token, **data},
            follow_redirects=False,
        )
        assert response.status_code == 404
    assert _case(runtime, town_hall).status is CaseStatus.NEW


def test_viewer_cannot_post_and_csrf_is_refused(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    case_id = _new_case(runtime, "Portal DDoS", [Sector.GOVERNANCE])
    with runtime.session() as session:
        task = incidents.apply_playbook(
            session, case_id, "ddos-citizen-portal", actor=SYSTEM, clock=runtime.clock
        )[0]
    forms = (
        ("/incidents", {"title": "Viewer case"}),
        (f"/incidents/{case_id}", {"status": "triage"}),
        (f"/incidents/{case_id}/playbook", {"playbook_id": "ransomware"}),
        (f"/incidents/{case_id}/tasks/{task.id}", {"action": "skipped"}),
        (f"/alerts/{queue['ransom']}/case", {}),
        ("/alerts/case", {"ids": queue["ransom"]}),
    )
    viewer = as_role(Role.VIEWER)
    token = csrf_from(viewer.get("/incidents").text)
    for url, data in forms:
        response = viewer.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
        assert response.status_code == 403, url
    analyst = as_role(Role.ANALYST)
    for url, data in forms:
        response = analyst.post(url, data=data, follow_redirects=False)
        assert response.status_code == 403, url
    case = _case(runtime, case_id)
    assert case.status is CaseStatus.NEW and case.alert_ids == []
    assert all(t.status == "open" for t in case.tasks)
    with runtime.session() as session:
        assert incidents.list_cases(session).total == 1
