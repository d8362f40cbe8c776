"""The clocks section of the case page and `/incidents/clocks`: start a clock, record a start
event in the city's zone (an ambiguous one refused next to the form), an assessment (refused to
a responder), a hold refused on the CAI notice, reminders acknowledged; the database judges."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from civicshield import incidents
from civicshield.core import SYSTEM, Role, Sector
from civicshield.core.clock import FrozenClock
from civicshield.incidents import CaseCreate
from civicshield.incidents.legal import (
    LegalConfig,
    case_clocks,
    list_assessments,
    list_reminders,
    raise_reminders,
)
from civicshield.runtime import Runtime
from tests.integration.web.support import post_form


def _case(rt: Runtime) -> int:
    with rt.session() as s:
        return incidents.create_case(
            s, CaseCreate(title="Records breach", sectors=[Sector.WATER]), actor=SYSTEM,
            clock=rt.clock,
        ).id  # fmt: skip


def _views(rt: Runtime, case_id: int) -> dict[str, Any]:
    with rt.session() as s:
        found = case_clocks(s, case_id, now=rt.clock.now(), settings_or_config=rt.settings)
    return {v.obligation_id: v for v in found}


def test_clocks_section_and_page(runtime: Runtime, as_role: Any) -> None:
    case_id = _case(runtime)
    url = f"/incidents/{case_id}"
    analyst = as_role(Role.ANALYST)
    for ob in ("qc-a21.cai", "qc-a21.persons"):
        done = post_form(analyst, url, f"{url}/clocks", {"obligation_id": ob})
        assert done.status_code == 303 and done.headers["location"].endswith("#clocks")
    zone = runtime.settings.default_timezone
    local = (runtime.clock.now() - timedelta(hours=2)).astimezone(ZoneInfo(zone))
    saved = post_form(analyst, url, f"{url}/start-events",
                      {"kind": "cause_to_believe", "at": local.strftime("%Y-%m-%dT%H:%M"),
                       "zone": zone})  # fmt: skip
    assert saved.status_code == 303
    refused = post_form(analyst, url, f"{url}/start-events",
                        {"kind": "became_aware", "at": "2026-11-01T01:30",
                         "zone": "America/Toronto"})  # fmt: skip
    assert refused.status_code == 422 and "happens twice" in refused.text
    assert 'data-testid="clocks-error"' in refused.text
    held = post_form(analyst, url, f"{url}/holds",
                     {"obligation_id": "qc-a21.cai", "reason": "police", "authority": "SQ",
                      "review_on": "2026-12-01"})  # fmt: skip
    assert held.status_code == 422 and "cannot be held" in held.text
    page = analyst.get(url).text
    for testid in ("clock-row-qc-a21.cai", "clock-status-qc-a21.cai", "clock-due-qc-a21.cai",
                   "clock-start", "start-event-kind", "start-event-at", "start-event-save",
                   "assessment-requirement", "assessment-met-yes", "assessment-met-no",
                   "assessment-reasoning", "assessment-save", "hold-save"):  # fmt: skip
        assert f'data-testid="{testid}"' in page, testid
    assert "internal target, not a statutory deadline" in page
    later = FrozenClock(runtime.clock.now() + timedelta(hours=40))  # sign-ins stay valid
    with runtime.session() as s:
        raise_reminders(s, config=LegalConfig.from_settings(runtime.settings), clock=later)
        rid = list_reminders(s, case_id=case_id)[0].id
    listing = analyst.get("/incidents/clocks")
    assert listing.status_code == 200 and f'data-testid="reminder-ack-{rid}"' in listing.text
    assert f'data-testid="due-{case_id}-qc-a21.persons"' in listing.text
    viewer = as_role(Role.VIEWER)
    assert viewer.get("/incidents/clocks").status_code == 200
    assert post_form(viewer, "/incidents/clocks", f"/incidents/reminders/{rid}/acknowledge",
                     {"back": "list"}).status_code == 403  # fmt: skip
    ack = post_form(analyst, "/incidents/clocks", f"/incidents/reminders/{rid}/acknowledge",
                    {"back": "list"})  # fmt: skip
    assert ack.status_code == 303
    with runtime.session() as s:
        assert len(list_reminders(s, case_id=case_id, unacknowledged=True)) == 1
    responder = as_role(Role.RESPONDER)
    body = {"requirement": "risk_of_serious_injury", "met": "no", "reasoning": "encrypted"}
    assert post_form(responder, url, f"{url}/assessments", body).status_code == 403
    assert post_form(analyst, url, f"{url}/assessments", body).status_code == 303
    with runtime.session() as s:
        assert [a.met for a in list_assessments(s, case_id)] == [False]
    assert _views(runtime, case_id)["qc-a21.cai"].status == "not-required"
    assert "not required: assessed" in analyst.get(url).text
