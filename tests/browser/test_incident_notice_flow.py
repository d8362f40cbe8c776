"""Issue 9's "done when" browser path: an analyst takes an alert to a case, applies the
ransomware playbook, starts the Québec clocks it suggests, records the start event and the
risk-of-serious-injury assessment, sends the notice to the CAI by e-mail — to a real local SMTP
server started by the test session — and sees the register entry. The database and the mail
server are the judges."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from civicshield import incidents
from civicshield.core import Role
from civicshield.incidents import legal, notices
from civicshield.runtime import Runtime
from tests.browser.conftest import login
from tests.browser.test_incident_flow import _seed_ransom
from tests.harness.smtp import SmtpServer

pytestmark = pytest.mark.browser
CAI_ADDRESS = "incidents@cai.example"
CIRCUMSTANCES = "Shadow copies deleted on the finance workstation by a ransomware operator."


def test_alert_to_case_assessment_cai_notice_and_register(
    page: Any, user_factory: Any, live_runtime: Runtime, smtp: SmtpServer
) -> None:
    tag = uuid.uuid4().hex[:6]
    ransom = _seed_ransom(live_runtime, tag)
    smtp.clear()
    login(page, user_factory(Role.ANALYST))
    page.goto(f"/alerts/{ransom}")
    with page.expect_navigation():
        page.get_by_test_id("open-case").click()
    case_id = int(page.url.split("/incidents/")[1].split("?")[0])
    page.get_by_test_id("tab-playbook").click()
    with page.expect_navigation():
        page.get_by_test_id("playbook-apply").click()

    # The playbook suggests its clocks: start the Québec CAI notice and the register.
    page.get_by_test_id("tab-clocks").click()
    page.get_by_test_id("clock-suggest-qc-a21.cai").check()
    page.get_by_test_id("clock-suggest-qc-a21.register").check()
    with page.expect_navigation():
        page.get_by_test_id("clocks-suggested-start").click()
    assert page.get_by_test_id("clock-row-qc-a21.cai").is_visible()

    # "Cause to believe", an hour ago in Montréal's time, is its own audited timestamp.
    zone = "America/Toronto"
    local = (datetime.now(ZoneInfo(zone)) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_test_id("start-event-kind").select_option("cause_to_believe")
    page.get_by_test_id("start-event-at").fill(local)
    page.get_by_test_id("start-event-zone").select_option(zone)
    with page.expect_navigation():
        page.get_by_test_id("start-event-save").click()

    # The risk-of-serious-injury decision is a recorded assessment with its reasoning.
    page.get_by_test_id("assessment-requirement").select_option("risk_of_serious_injury")
    page.get_by_test_id("assessment-met-yes").check()
    page.get_by_test_id("assessment-factor-sensitivity").fill("bank details of suppliers")
    page.get_by_test_id("assessment-reasoning").fill("Financial data on a host the crew held.")
    page.get_by_test_id("assessment-consulted").fill("the privacy officer")
    with page.expect_navigation():
        page.get_by_test_id("assessment-save").click()
    assert "Financial data" in page.get_by_test_id("clocks-assessments").inner_text()
    assert "met" in page.get_by_test_id("clock-req-qc-a21.cai-risk_of_serious_injury").inner_text()

    # The notice to the CAI: every required field of the regulation, then Send (e-mail).
    page.get_by_test_id("tab-notices").click()
    page.get_by_test_id("notice-obligation").select_option("qc-a21.cai")
    page.get_by_test_id("notice-channel").select_option("email")
    page.get_by_test_id("notice-address").fill(CAI_ADDRESS)
    with page.expect_navigation():
        page.get_by_test_id("notice-new").click()
    with live_runtime.session() as session:
        profiles = notices.offered_profiles(live_runtime.settings)
        [draft] = notices.list_notices(session, case_id, profiles)
    page.get_by_test_id("notice-field-circumstances").fill(CIRCUMSTANCES)
    for field in draft.required:  # what the case could not prefill
        box = page.get_by_test_id(f"notice-field-{field.id}")
        if not box.input_value().strip():
            box.fill(f"{field.id}: stated")
    with page.expect_navigation():
        page.get_by_test_id("notice-send").click()
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == (CAI_ADDRESS,)
    assert CIRCUMSTANCES in mail.message.get_content()
    assert page.get_by_test_id(f"notice-status-{draft.id}").inner_text().startswith("Sent")
    with live_runtime.session() as session:
        sent = notices.get_notice(session, case_id, draft.id, profiles)
        assert sent.status == "sent" and sent.message_id and CIRCUMSTANCES in sent.copy_text
        views = legal.case_clocks(session, case_id, now=live_runtime.clock.now(),
                                  settings_or_config=live_runtime.settings)  # fmt: skip
        assert {v.obligation_id: v.status for v in views}["qc-a21.cai"] == "met"

    # The register entry (prefilled from the case, the assessment and the notice).
    page.get_by_test_id("register-field-personal_information").fill("Supplier bank details")
    with page.expect_navigation():
        page.get_by_test_id("register-record").click()
    entry = page.get_by_test_id("register-entry").inner_text()
    assert "Supplier bank details" in entry
    page.goto("/incidents/register")
    assert f"/incidents/{case_id}" in page.content()
    with live_runtime.session() as session:
        history = incidents.get_case(session, case_id).history
    assert {"clock", "start_event", "assessment", "notice", "register"} <= {
        h.field for h in history
    }
