"""Notice drafts and sending: required fields named when missing, the copy in the notice's
language, e-mail through a real local SMTP server, other channels at the time given, a sent
notice immutable, the start event for follow-up clocks, and nothing recorded on mail failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from civicshield.core import SmtpSecurity
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.enums import Sector
from civicshield.core.errors import Conflict, ExternalServiceError, Invalid, NotFound
from civicshield.incidents.cases import create_case, get_case
from civicshield.incidents.models import CaseClock, CaseStartEvent
from civicshield.incidents.notices import (
    NoticeCreate,
    NoticeUpdate,
    create_notice,
    list_notices,
    notice_choices,
    offered_profiles,
    send_notice,
    update_notice,
)
from civicshield.incidents.schemas import CaseCreate
from civicshield.mail import MailConfig, Mailer
from civicshield.runtime import Runtime
from tests.harness import SmtpServer

ANA = Actor(kind="user", name="ana")
CAI_FIELDS = {
    "body_name": "Ville Démo",
    "contact_person": "Ana",
    "personal_information": "names",
    "circumstances": "phishing",
    "occurred_period": "2026-03-01",
    "aware_period": "2026-03-02",
    "persons_count": "120, all in Québec",
    "risk_elements": "SIN numbers",
    "persons_notice_measures": "letters on 2026-03-04",
    "mitigation": "passwords reset",
}


def mailer(server: SmtpServer) -> Mailer:
    return Mailer(
        MailConfig(
            host=server.host,
            port=server.port,
            security=SmtpSecurity.NONE,
            username=None,
            password=None,
            sender="soc@ciudad-demo.mx",
            timeout=5.0,
        )
    )


def new_case(runtime: Runtime, clock: FrozenClock, sectors: list[Sector] | None = None) -> int:
    with runtime.session() as s:
        data = CaseCreate(title="Leak", description="Phishing of the clerk", sectors=sectors or [])
        return create_case(s, data, actor=ANA, clock=clock).id


def test_choices_put_running_obligations_first_and_leave_out_the_register(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = new_case(runtime, clock)
    profiles = offered_profiles(runtime.settings)
    with runtime.session() as s:
        s.add(
            CaseClock(
                case_id=case_id,
                obligation_id="qc-a21.persons",
                profile_version="1",
                added_at=clock.now(),
                added_by="ana",
            )
        )
    with runtime.session() as s:
        choices = notice_choices(s, case_id, profiles, lang="fr")
    ids = [c.obligation_id for c in choices]
    assert ids[0] == "qc-a21.persons" and choices[0].running
    assert "qc-a21.cai" in ids and "qc-a21.register" not in ids and "pipeda.record" not in ids
    with runtime.session() as s, pytest.raises(Invalid) as refused:
        create_notice(
            s,
            case_id,
            NoticeCreate(obligation_id="qc-a21.register"),
            profiles,
            actor=ANA,
            clock=clock,
        )
    assert "register" in refused.value.detail


def test_missing_fields_are_refused_each_named_with_label_and_article(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = new_case(runtime, clock)
    profiles = offered_profiles(runtime.settings)
    with runtime.session() as s:
        draft = create_notice(
            s,
            case_id,
            NoticeCreate(
                obligation_id="qc-a21.persons",
                language="fr",
                channel="letter",
                fields={"personal_information": "noms"},
            ),
            profiles,
            actor=ANA,
            clock=clock,
        )
    assert draft.recipient.startswith("Chaque personne")
    assert draft.fields["circumstances"] == "Phishing of the clerk"  # prefilled from the case
    assert draft.fields["contact"] == "ana"  # the case owner
    with runtime.session() as s, pytest.raises(Invalid) as refused:
        send_notice(
            s,
            case_id,
            draft.id,
            profiles,
            mailer=runtime.mailer,
            city="Ville",
            actor=ANA,
            clock=clock,
        )
    named = {e.loc[-1]: e.msg for e in refused.value.errors}
    assert set(named) == {"occurred_period", "measures_taken", "measures_for_person"}
    assert "Mesures que la personne pourrait prendre" in named["measures_for_person"]
    assert "r. 3.1 s. 5(5)" in named["measures_for_person"]
    with runtime.session() as s, pytest.raises(Invalid) as bad:
        update_notice(
            s,
            case_id,
            draft.id,
            NoticeUpdate(fields={"nope": "x"}),
            profiles,
            actor=ANA,
            clock=clock,
        )
    assert bad.value.errors[0].loc == ("body", "fields", "nope")


def test_email_send_reaches_the_server_with_the_copy_and_then_is_immutable(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = new_case(runtime, clock)
    profiles = offered_profiles(runtime.settings)
    with runtime.session() as s:
        draft = create_notice(
            s,
            case_id,
            NoticeCreate(
                obligation_id="qc-a21.cai", address="signalement@cai.example", fields=CAI_FIELDS
            ),
            profiles,
            actor=ANA,
            clock=clock,
        )
    with SmtpServer() as server:
        with runtime.session() as s:
            sent = send_notice(
                s,
                case_id,
                draft.id,
                profiles,
                mailer=mailer(server),
                city="Ciudad Demo",
                actor=ANA,
                clock=clock,
            )
        (received,) = server.wait_for(1)
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == sent.copy_text
    subject = str(received.message["Subject"])
    assert "Ciudad Demo" in subject and str(case_id) in subject and "Commission" in subject
    assert sent.status == "sent" and sent.sent_at == clock.now() and len(sent.copy_sha256) == 64
    assert received.message["Message-ID"] == sent.message_id
    assert "Contact person (r. 3.1 [secondary])\nAna\n" in sent.copy_text
    with runtime.session() as s, pytest.raises(Conflict):
        update_notice(
            s, case_id, draft.id, NoticeUpdate(recipient="x"), profiles, actor=ANA, clock=clock
        )
    with runtime.session() as s, pytest.raises(Conflict):
        send_notice(
            s, case_id, draft.id, profiles, mailer=runtime.mailer, city="C", actor=ANA, clock=clock
        )
    with runtime.session() as s:
        event = s.scalars(select(CaseStartEvent).where(CaseStartEvent.case_id == case_id)).one()
        history = get_case(s, case_id).history
    assert (event.kind, event.obligation_id) == ("notification_sent", "qc-a21.cai")
    assert any(h.field == "notice" and h.new["id"] == draft.id for h in history)


def test_mail_failure_keeps_the_draft_and_records_nothing(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = new_case(runtime, clock)
    profiles = offered_profiles(runtime.settings)
    with runtime.session() as s:
        draft = create_notice(
            s,
            case_id,
            NoticeCreate(obligation_id="qc-a21.cai", address="a@b.example", fields=CAI_FIELDS),
            profiles,
            actor=ANA,
            clock=clock,
        )
    with SmtpServer() as server:
        dead = mailer(server)
    with runtime.session() as s, pytest.raises(ExternalServiceError):
        send_notice(s, case_id, draft.id, profiles, mailer=dead, city="C", actor=ANA, clock=clock)
    unconfigured = Mailer(MailConfig.from_settings(runtime.settings))  # no SMTP host at all
    with runtime.session() as s, pytest.raises(Conflict, match="CIVICSHIELD_SMTP_HOST"):
        send_notice(
            s, case_id, draft.id, profiles, mailer=unconfigured, city="C", actor=ANA, clock=clock
        )
    with runtime.session() as s:
        (still,) = list_notices(s, case_id, profiles)
        assert still.status == "draft" and not still.copy_text
        assert s.scalars(select(CaseStartEvent)).first() is None


def test_other_channel_is_recorded_at_the_time_given_and_scope_hides_the_case(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = new_case(runtime, clock, [Sector.WATER])
    profiles = offered_profiles(runtime.settings)
    with runtime.session() as s:
        draft = create_notice(
            s,
            case_id,
            NoticeCreate(obligation_id="qc-a21.cai", channel="portal", fields=CAI_FIELDS),
            profiles,
            actor=ANA,
            clock=clock,
        )
    with runtime.session() as s, pytest.raises(Invalid) as future:
        send_notice(
            s,
            case_id,
            draft.id,
            profiles,
            mailer=runtime.mailer,
            city="C",
            actor=ANA,
            clock=clock,
            sent_at=clock.now() + timedelta(hours=1),
        )
    assert future.value.errors[0].loc == ("body", "sent_at")
    earlier = clock.now() - timedelta(hours=3)
    with runtime.session() as s:
        sent = send_notice(
            s,
            case_id,
            draft.id,
            profiles,
            mailer=runtime.mailer,
            city="C",
            actor=ANA,
            clock=clock,
            sent_at=earlier,
        )
    assert sent.sent_at == earlier and sent.message_id == ""
    with runtime.session() as s, pytest.raises(NotFound):
        list_notices(s, case_id, profiles, scope=frozenset({Sector.TRANSPORT}))
