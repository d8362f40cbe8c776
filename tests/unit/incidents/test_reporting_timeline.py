"""The timeline holds every kind of entry, oldest first, with the deadlines as markers; its
CSV export defuses formulas; the report carries the chosen blocks in the chosen language."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Invalid
from civicshield.incidents.cases import open_from_alerts
from civicshield.incidents.models import (
    CaseAssessment,
    CaseHold,
    CaseNotice,
    CaseReminder,
    CaseStartEvent,
    CaseTask,
    CustodyEntry,
    Evidence,
    RegisterEntry,
)
from civicshield.incidents.observables import ObservableCreate, add_observable
from civicshield.incidents.reporting import (
    TIMELINE_KINDS,
    Marker,
    build_timeline,
    load_recommendations,
    render_case_report_html,
    render_case_report_pdf,
    safe_cell,
    suggested,
    timeline_csv,
    timeline_html,
    timeline_json,
)
from civicshield.incidents.schemas import CaseFromAlerts
from civicshield.runtime import Runtime
from tests.unit.incidents.test_cases import seed

ANA = Actor(kind="user", name="ana")


def fill(s: Session, case_id: int, at: datetime) -> None:
    """One row of every table the timeline reads, an hour apart."""
    h = [at + timedelta(hours=i) for i in range(12)]
    s.add_all([
        CaseTask(case_id=case_id, key="manual/1", title="Isolate the PLC", status="done",
                 done_at=h[1], done_by="ana"),
        CaseStartEvent(case_id=case_id, kind="aware", at=h[2], recorded_at=h[2],
                       recorded_by="ana", note="=cmd|' /C calc'!A0"),
        CaseAssessment(case_id=case_id, requirement="rrog", met=True, reasoning="names leaked",
                       assessed_at=h[3], assessed_by="priv"),
        CaseHold(case_id=case_id, start=h[4], end=h[5], reason="police", authority="SPVM",
                 review_on="2026-12-01", recorded_at=h[4], recorded_by="ana", lifted_by="ana"),
        CaseNotice(case_id=case_id, obligation_id="qc-cai", recipient="CAI", created_at=h[5],
                   created_by="ana", updated_at=h[6], sent_at=h[6], sent_by="ana",
                   status="sent"),
        CaseReminder(case_id=case_id, obligation_id="qc-cai", level=1, reason="due-soon",
                     due_at=h[9], raised_at=h[7]),
        RegisterEntry(case_id=case_id, version=1, data={}, recorded_at=h[8], recorded_by="priv",
                      prev_hash="0" * 64, hash="1" * 64),
        Evidence(id=1, case_id=case_id, filename="pcap.zip", size=10, sha256="a" * 64,
                 blob="b1", key_id="k1", uploaded_at=h[9], uploaded_by="ana"),
    ])  # fmt: skip
    s.flush()
    s.add_all([
        CustodyEntry(evidence_id=1, at=h[9], actor="ana", action="upload"),
        CustodyEntry(evidence_id=1, at=h[10], actor="bob", action="verify", detail="intact"),
    ])  # fmt: skip
    s.flush()


def make_case(runtime: Runtime, clock: FrozenClock) -> int:
    first, _ = seed(runtime, clock)
    with runtime.session() as s:
        case = open_from_alerts(s, CaseFromAlerts(alert_ids=[first]), actor=ANA, clock=clock)
        add_observable(
            s, case.id, ObservableCreate(type="ipv4", value="203.0.113.7"), actor=ANA, clock=clock
        )
        fill(s, case.id, clock.now())
        return case.id


def test_timeline_holds_every_kind_in_order_with_markers(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = make_case(runtime, clock)
    due = clock.now() + timedelta(hours=72)
    with runtime.session() as s:
        entries = build_timeline(s, case_id, markers=[Marker(due, "CAI notice", "due")])
        only = build_timeline(s, case_id, markers=[Marker(due, "x", "due")], kinds=["deadline"])
    assert {e.kind for e in entries} == set(TIMELINE_KINDS)
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert entries[-1].marker and entries[-1].summary == "CAI notice (due)"
    assert all(e.at.tzinfo is UTC for e in entries)
    assert [e.kind for e in only] == ["deadline"]
    assert any(e.kind == "notice" and "qc-cai sent to CAI" in e.summary for e in entries)


def test_exports_escape_formulas_and_keep_every_entry(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = make_case(runtime, clock)
    with runtime.session() as s:
        entries = build_timeline(s, case_id)
    rows = list(csv.DictReader(io.StringIO(timeline_csv(entries))))
    assert len(rows) == len(entries)
    assert [r["kind"] for r in rows] == [e.kind for e in entries]
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)"):
        assert safe_cell(bad) == "'" + bad
    assert safe_cell("plain") == "plain"
    data = json.loads(timeline_json(case_id, entries))
    assert data["case_id"] == case_id and len(data["entries"]) == len(entries)
    page = timeline_html(case_id, "<script>x</script>", entries)
    assert "<script>x" not in page and "&lt;script&gt;" in page


def test_csv_cells_starting_with_formula_characters_get_an_apostrophe(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = make_case(runtime, clock)
    with runtime.session() as s:
        entries = build_timeline(s, case_id, markers=[Marker(clock.now(), "=HYPERLINK(1)", "x")])
        actor_rows = list(csv.DictReader(io.StringIO(timeline_csv(entries))))
    assert "'=HYPERLINK(1) (x)" in [r["summary"] for r in actor_rows]


def test_recommendation_blocks_are_complete_and_suggested_by_playbook() -> None:
    known = load_recommendations()
    assert len(known) >= 10
    assert all(set(r.title) >= {"en", "es", "fr"} for r in known.values())
    first = suggested("iot-camera-botnet")[0]
    assert "iot-camera-botnet" in first.playbooks


def test_report_has_the_chosen_blocks_in_the_chosen_language(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = make_case(runtime, clock)
    with runtime.session() as s:
        html = render_case_report_html(
            s, case_id, blocks=["segment-ot", "backups-offline"], language="fr",
            generated_at=clock.now(), markers=[Marker(clock.now(), "CAI notice", "due")],
        )  # fmt: skip
        with pytest.raises(Invalid, match="nope"):
            render_case_report_html(s, case_id, blocks=["nope"], generated_at=clock.now())
        with pytest.raises(Invalid, match="language"):
            render_case_report_html(s, case_id, language="de", generated_at=clock.now())
    assert 'lang="fr-CA"' in html
    assert known_title("segment-ot", "fr") in html and known_title("backups-offline", "fr") in html
    assert known_title("segment-ot", "en") not in html
    assert known_title("mfa-remote-access", "fr") not in html
    assert "a" * 64 in html and "203.0.113.7" in html and "CAI notice" in html
    assert "T1110" in html


def known_title(block: str, lang: str) -> str:
    return load_recommendations()[block].title[lang].replace("'", "&#39;")


def test_report_pdf_is_a_pdf(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = make_case(runtime, clock)
    with runtime.session() as s:
        pdf = render_case_report_pdf(
            s, case_id, blocks=["tabletop-exercise"], language="es", generated_at=clock.now()
        )
    assert pdf.startswith(b"%PDF")
