"""The register: versions append, the chain verifies and finds a row changed in the database,
prefill from the case, assessments and sent notices, retention from the start event, the
scope, and the exports (CSV formulas neutralised, PDF)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import text

from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.enums import Sector
from civicshield.core.errors import Invalid, NotFound
from civicshield.incidents.cases import create_case
from civicshield.incidents.clocks import add_months
from civicshield.incidents.models import CaseAssessment, CaseClock, CaseStartEvent
from civicshield.incidents.notices import (
    GENESIS,
    NoticeCreate,
    create_notice,
    entry_versions,
    list_register,
    neutralise,
    offered_profiles,
    record_entry,
    register_csv,
    register_pdf,
    send_notice,
    verify_register,
)
from civicshield.incidents.schemas import CaseCreate
from civicshield.runtime import Runtime

ANA = Actor(kind="user", name="ana")


def new_case(runtime: Runtime, clock: FrozenClock, sector: Sector = Sector.WATER) -> int:
    with runtime.session() as s:
        data = CaseCreate(title="Leak", description="Lost laptop", sectors=[sector])
        case_id = create_case(s, data, actor=ANA, clock=clock).id
        s.add(
            CaseClock(
                case_id=case_id,
                obligation_id="qc-a21.register",
                profile_version="1",
                added_at=clock.now(),
                added_by="ana",
            )
        )
        return case_id


def test_versions_chain_and_tampering_is_found(runtime: Runtime, clock: FrozenClock) -> None:
    profiles = offered_profiles(runtime.settings)
    first, second = new_case(runtime, clock), new_case(runtime, clock, Sector.TRANSPORT)
    with runtime.session() as s:
        one = record_entry(
            s, first, {"persons_affected": "about 40"}, profiles, actor=ANA, clock=clock
        )
        record_entry(s, second, {}, profiles, actor=ANA, clock=clock)
        clock.advance(timedelta(hours=1))
        two = record_entry(
            s,
            first,
            {"public_notice": "no", "public_notice_reason": "few"},
            profiles,
            actor=ANA,
            clock=clock,
        )
    assert one.prev_hash == GENESIS and (one.version, two.version) == (1, 2)
    assert two.data["persons_affected"] == "about 40"  # kept from version 1
    assert two.data["circumstances"] == "Lost laptop"
    with runtime.session() as s:
        assert [v.version for v in entry_versions(s, first)] == [1, 2]
        latest = list_register(s)
        assert [(e.case_id, e.version) for e in latest] == [(first, 2), (second, 1)]
        assert len(list_register(s, all_versions=True)) == 3
        only_water = list_register(s, scope=frozenset({Sector.WATER}))
        assert [e.case_id for e in only_water] == [first]
        assert verify_register(s).ok and verify_register(s).rows == 3
        s.execute(
            text("UPDATE incident_register SET data = :d WHERE id = :i"),
            {"d": '{"persons_affected": "4"}', "i": one.id},
        )
    with runtime.session() as s:
        check = verify_register(s)
    assert not check.ok and check.first_broken_id == one.id and "hash" in check.reason
    with runtime.session() as s, pytest.raises(NotFound):
        entry_versions(s, second, scope=frozenset({Sector.WATER}))


def test_bad_fields_are_named(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = new_case(runtime, clock)
    with runtime.session() as s, pytest.raises(Invalid) as refused:
        record_entry(
            s,
            case_id,
            {"public_notice": "maybe", "aware_at": "yesterday", "x": "1"},
            offered_profiles(runtime.settings),
            actor=ANA,
            clock=clock,
        )
    assert {e.loc[-1] for e in refused.value.errors} == {"public_notice", "aware_at", "x"}


def test_prefill_assessments_notices_and_retention(runtime: Runtime, clock: FrozenClock) -> None:
    profiles = offered_profiles(runtime.settings)
    case_id = new_case(runtime, clock)
    aware = clock.now() - timedelta(days=2)
    with runtime.session() as s:
        s.add(
            CaseAssessment(
                case_id=case_id,
                requirement="risk_of_serious_injury",
                met=True,
                factors={"sensitivity": "high"},
                reasoning="SINs exposed",
                assessed_at=clock.now(),
                assessed_by="ana",
            )
        )
        notice = create_notice(
            s,
            case_id,
            NoticeCreate(
                obligation_id="qc-a21.cai",
                channel="letter",
                fields=dict.fromkeys(
                    [f.id for f in profiles["qc-a21"].obligation("qc-a21.cai").notice_fields], "x"
                ),
            ),
            profiles,
            actor=ANA,
            clock=clock,
        )
        send_notice(
            s, case_id, notice.id, profiles, mailer=runtime.mailer, city="C", actor=ANA, clock=clock
        )
        pending = record_entry(s, case_id, {}, profiles, actor=ANA, clock=clock)
        s.add(
            CaseStartEvent(
                case_id=case_id, kind="became_aware", at=aware, recorded_at=aware, recorded_by="ana"
            )
        )
        s.flush()
        kept = record_entry(s, case_id, {}, profiles, actor=ANA, clock=clock)
    assert pending.retain_until is None
    assert "retention starts when became_aware is recorded" in pending.data["retention"][0]["note"]
    assert kept.retain_until == add_months(aware, 60)
    assert "SINs exposed" in kept.data["risk_reasoning"]
    assert "sensitivity=high" in kept.data["risk_factors"]
    assert kept.data["risk_conclusion"] == "risk_of_serious_injury: met"
    (sent,) = kept.data["notices"]
    assert sent["channel"] == "letter" and len(sent["sha256"]) == 64


def test_csv_neutralises_formulas_and_pdf_renders(runtime: Runtime, clock: FrozenClock) -> None:
    profiles = offered_profiles(runtime.settings)
    case_id = new_case(runtime, clock)
    with runtime.session() as s:
        record_entry(
            s,
            case_id,
            {
                "circumstances": '=HYPERLINK("x")',
                "contact_person": "@ana",
                "persons_affected": "-3",
            },
            profiles,
            actor=ANA,
            clock=clock,
        )
        entries, check = list_register(s), verify_register(s)
    data = register_csv(entries, language="es")
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert "Circunstancias y causa" in rows[0]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Circunstancias y causa"] == '\'=HYPERLINK("x")'
    assert row["Persona de contacto"] == "'@ana" and row["Personas afectadas (aproximado)"] == "'-3"
    assert neutralise("+1") == "'+1" and neutralise("plain") == "plain"
    pdf = register_pdf(
        entries, check, language="fr", city="Ville", generated_at=clock.now(), tz="America/Toronto"
    )
    assert pdf.startswith(b"%PDF")
