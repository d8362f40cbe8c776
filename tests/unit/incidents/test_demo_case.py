"""The demo city's ransomware case: opened from the shadow-copy alerts on the permits file
server, with Québec and GDPR clocks, the CAI notice sent and the GDPR notice due, a register
entry and intact evidence; loading the demo again adds nothing."""

from __future__ import annotations

from civicshield import alerts, incidents
from civicshield.core import SYSTEM
from civicshield.core.clock import FrozenClock
from civicshield.incidents import evidence, legal, notices
from civicshield.incidents.demo import load_demo_case
from civicshield.runtime import Runtime
from tests.unit.alerts.test_record import matches


def test_the_demo_ransomware_case(runtime: Runtime, clock: FrozenClock) -> None:
    shadow = matches(
        3, rule="shadow", tags=["attack.impact", "attack.t1490"],
        **{"host.name": "srv-corp-it-004.ciudad-demo.example"},
    )  # fmt: skip
    with runtime.session() as s:
        [alert_id] = alerts.record_matches(s, shadow, batch_id="demo", clock=clock).created
        notes = load_demo_case(s, runtime.settings, clock=clock)
    assert "Québec and GDPR clocks" in notes[0]
    with runtime.session() as s:
        [case] = incidents.list_cases(s).items
        detail = incidents.get_case(s, case.id)
        assert detail.alert_ids == [alert_id] and detail.playbook_id == "ransomware"
        views = legal.case_clocks(s, case.id, now=clock.now(), settings_or_config=runtime.settings)
        status = {v.obligation_id: v.status for v in views}
        assert status["qc-a21.cai"] == "met" and status["gdpr.art33"] == "running"
        assert {o.split(".")[0] for o in status} == {"qc-a21", "gdpr"}
        sent = notices.list_notices(s, case.id, notices.offered_profiles(runtime.settings))
        assert sorted((n.obligation_id, n.status) for n in sent) == [
            ("gdpr.art33", "draft"), ("qc-a21.cai", "sent")
        ]  # fmt: skip
        assert len(notices.entry_versions(s, case.id)) == 1
        [piece] = evidence.list_evidence(s, case.id)
        [checked] = evidence.verify_evidence(
            s, runtime.settings, case.id, piece.id, actor=SYSTEM, clock=clock
        )
        assert checked.intact
        assert load_demo_case(s, runtime.settings, clock=clock) == []  # idempotent
    with runtime.session() as s:
        assert incidents.list_cases(s).total == 1
