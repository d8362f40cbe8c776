"""The demo city's ransomware case: the ransomware precursor on the permits file server (the
demo telemetry's third scenario) escalated into a case that holds citizens' personal data, with
the ransomware playbook, Québec and GDPR clocks, the risk assessment, the notice to the CAI sent
and the one to the EU supervisory authority still due, the register entry, observables and a
piece of evidence. Idempotent: a second load finds the case and adds nothing."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import alerts
from civicshield.alerts import AlertFilter
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.enums import Sector, Severity
from civicshield.core.settings import Settings
from civicshield.incidents import evidence, legal, notices, observables
from civicshield.incidents.cases import add_alerts, create_case, update_case
from civicshield.incidents.models import Case
from civicshield.incidents.schemas import CaseCreate, CaseStatus, CaseUpdate
from civicshield.incidents.tasks import apply_playbook
from civicshield.mail import MailConfig, Mailer

__all__ = ["DEMO_SOURCE", "load_demo_case"]

DEMO_SOURCE = "demo"
ANALYST = PRIVACY = Actor(kind="system", name="demo")  # as the rest of the demo city's data
FILE_SERVER = "srv-corp-it-004"
CLOCKS = ("qc-a21.register", "qc-a21.cai", "qc-a21.persons", "gdpr.art33-5", "gdpr.art33")
RANSOM_NOTE = (
    "CivicShield demo evidence (synthetic): the text a ransomware note on "
    f"{FILE_SERVER} might hold.\nYOUR FILES ARE ENCRYPTED. Contact restore@ransom.example "
    "with ID CS-DEMO-7731 within 72 hours.\n"
).encode()


def _ransom_alerts(session: Session) -> list[int]:
    found = alerts.list_alerts(session, AlertFilter(technique="T1490"), limit=50).items
    on_server = [a.id for a in found if FILE_SERVER in " ".join(a.key_fields.values())]
    return on_server or [a.id for a in found][:3]


def load_demo_case(session: Session, settings: Settings, *, clock: Clock) -> list[str]:
    if session.scalar(select(Case.id).where(Case.source == DEMO_SOURCE).limit(1)) is not None:
        return []
    now = clock.now()
    ids = _ransom_alerts(session)
    case = create_case(
        session,
        CaseCreate(
            title=f"Ransomware precursor on the permits file server ({FILE_SERVER})",
            description=(
                "Shadow copies deleted and boot recovery disabled on the city's permits file "
                "server. It holds citizens' permit applications: names, addresses, telephone "
                "numbers and identity document numbers, including applicants living in Québec "
                "and in the European Union (cross-border business permits)."
            ),
            severity=Severity.CRITICAL, owner="ana.lopez", team=["raul.mendoza"],
            sectors=[Sector.GOVERNANCE], techniques=["T1486", "T1490"],
        ),
        actor=ANALYST, clock=clock, source=DEMO_SOURCE,
    )  # fmt: skip
    if ids:
        add_alerts(session, case.id, ids, actor=ANALYST, clock=clock, reason="demo: escalated")
    apply_playbook(session, case.id, "ransomware", actor=ANALYST, clock=clock)
    contain = CaseUpdate(status=CaseStatus.CONTAIN, reason="file server isolated from the network")
    update_case(session, case.id, contain, actor=ANALYST, clock=clock)
    aware = now - timedelta(hours=4)
    _clocks(session, settings, case.id, aware, clock)
    _notices(session, settings, case.id, aware, clock)
    observables.from_alerts(session, case.id, actor=ANALYST, clock=clock)
    evidence.add_evidence(
        session, settings, case.id, io.BytesIO(RANSOM_NOTE), filename="README-RESTORE.txt",
        description="Ransom note found on the file share (synthetic demo text).",
        media_type="text/plain", actor=ANALYST, clock=clock,
    )  # fmt: skip
    return [
        f"demo incident: case {case.id} (ransomware on {FILE_SERVER}) with {len(ids)} alert(s), "
        "Québec and GDPR clocks, the CAI notice sent and the GDPR notice due"
    ]


def _clocks(session: Session, settings: Settings, case_id: int, aware: datetime,
            clock: Clock) -> None:  # fmt: skip
    config = legal.config_of(settings)
    for obligation in CLOCKS:
        legal.start_clock(session, case_id, obligation, config=config, actor=ANALYST, clock=clock)
    for kind in ("cause_to_believe", "became_aware"):
        legal.record_start_event(
            session, case_id,
            legal.StartEventCreate(kind=kind, at=aware.isoformat(),
                                   note="the shadow-copy deletion alerts were triaged"),
            config=config, actor=ANALYST, clock=clock,
        )  # fmt: skip
    factors = {
        "sensitivity": "identity document numbers with names and addresses",
        "consequences": "identity theft and fraud against applicants",
        "likelihood": "an extortion crew had access; exfiltration before encryption is likely",
    }
    for requirement in ("risk_of_serious_injury", "risk"):
        legal.record_assessment(
            session, case_id,
            legal.AssessmentCreate(
                requirement=requirement, met=True, factors=factors,
                reasoning="Sensitive identity data of about 1,850 applicants on a server an "
                "extortion crew controlled for hours; misuse is likely (A-2.1 s. 63.9).",
                consulted="Sophie Tremblay, privacy officer",
            ),
            actor=PRIVACY, clock=clock,
        )  # fmt: skip


def _notices(session: Session, settings: Settings, case_id: int, aware: datetime,
             clock: Clock) -> None:  # fmt: skip
    profiles = notices.offered_profiles(settings)
    facts = {
        "body_name": settings.city_name,
        "contact_person": "Sophie Tremblay, privacy officer",
        "personal_information": "Names, addresses, telephone numbers and identity document "
        "numbers of permit applicants",
        "circumstances": "Ransomware operators deleted backups (shadow copies) on the permits "
        "file server; the server was isolated the same morning.",
        "occurred_period": (aware - timedelta(hours=1)).strftime("%Y-%m-%d"),
        "aware_period": aware.strftime("%Y-%m-%d %H:%M UTC"),
        "persons_count": "About 1,850 applicants, about 240 residing in Québec",
        "risk_elements": "Identity document numbers; likely exfiltration before encryption.",
        "persons_notice_measures": "Letters and e-mails to each applicant within the week.",
        "mitigation": "Server isolated, credentials reset, restore from offline backups.",
    }
    cai = notices.create_notice(
        session, case_id,
        notices.NoticeCreate(obligation_id="qc-a21.cai", language="fr", channel="portal",
                             address="https://www.cai.gouv.qc.ca/", fields=facts),
        profiles, actor=PRIVACY, clock=clock,
    )  # fmt: skip
    notices.send_notice(
        session, case_id, cai.id, profiles, mailer=Mailer(MailConfig.from_settings(settings)),
        city=settings.city_name, actor=PRIVACY, clock=clock, sent_at=aware + timedelta(hours=3),
    )  # fmt: skip
    gdpr = {"nature": facts["circumstances"], "contact": facts["contact_person"]}
    notices.create_notice(
        session, case_id,
        notices.NoticeCreate(obligation_id="gdpr.art33", language="en", channel="email",
                             address="breach@supervisory-authority.example", fields=gdpr),
        profiles, actor=PRIVACY, clock=clock,
    )  # fmt: skip
    notices.record_entry(
        session, case_id,
        {"personal_information": facts["personal_information"],
         "circumstances": facts["circumstances"], "persons_affected": "About 1,850",
         "persons_by_residence": "About 240 in Québec; about 30 in the European Union",
         "measures_immediate": "Server isolated; credentials reset.",
         "contact_person": facts["contact_person"]},
        profiles, actor=PRIVACY, clock=clock,
    )  # fmt: skip
