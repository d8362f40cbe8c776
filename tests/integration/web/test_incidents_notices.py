"""The notices section and the register page: a draft created, a send refused with the missing
fields named and what was typed kept, the notice sent by e-mail to a real local SMTP server,
a mail failure shown with the notice left a draft, the register recorded with versions, the
register page and its exports per scope, and the roles that cannot notify."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from civicshield.core import SYSTEM, Role, Sector, SmtpSecurity
from civicshield.incidents import CaseCreate, create_case
from civicshield.incidents.models import CaseNotice
from civicshield.mail import MailConfig, Mailer
from civicshield.runtime import Runtime
from tests.harness import SmtpServer, free_port
from tests.integration.web.support import post_form

CAI = (
    "body_name",
    "contact_person",
    "personal_information",
    "circumstances",
    "occurred_period",
    "aware_period",
    "persons_count",
    "risk_elements",
    "persons_notice_measures",
    "mitigation",
)


def _new_case(rt: Runtime, title: str, sector: Sector) -> int:
    with rt.session() as session:
        return create_case(
            session, CaseCreate(title=title, sectors=[sector]), actor=SYSTEM, clock=rt.clock
        ).id


def _notices(rt: Runtime) -> list[CaseNotice]:
    with rt.session() as session:
        rows = list(session.scalars(select(CaseNotice).order_by(CaseNotice.id)))
        session.expunge_all()
        return rows


def _use(rt: Runtime, server: SmtpServer | None, port: int = 1) -> None:
    rt.mailer = Mailer(
        MailConfig(
            host=server.host if server else "127.0.0.1",
            port=server.port if server else port,
            security=SmtpSecurity.NONE,
            username=None,
            password=None,
            sender="soc@ciudad-demo.mx",
            timeout=5.0,
        )
    )


def test_draft_refused_then_sent_by_email_and_registered(runtime: Runtime, as_role: Any) -> None:
    case_id = _new_case(runtime, "Clerk mailbox leak", Sector.GOVERNANCE)
    client, url = as_role(Role.PRIVACY_OFFICER), f"/incidents/{case_id}"
    page = client.get(url)
    assert 'data-testid="notice-new"' in page.text and 'data-testid="register-record"' in page.text
    made = post_form(
        client,
        url,
        f"{url}/notices",
        {
            "obligation_id": "qc-a21.cai",
            "channel": "email",
            "address": "signalement@cai.example",
            "language": "fr",
        },
    )
    assert made.status_code == 303 and made.headers["location"].endswith("#notices")
    (draft,) = _notices(runtime)
    page = client.get(url).text
    assert 'data-testid="notice-field-risk_elements"' in page and " required" in page
    action = f"{url}/notices/{draft.id}"
    partial = {
        "action": "send",
        "address": "signalement@cai.example",
        "channel": "email",
        "field_body_name": "Ciudad Demo",
        "field_mitigation": "mots de passe",
    }
    refused = post_form(client, url, action, partial)
    assert refused.status_code == 422
    assert "Éléments établissant le risque de préjudice sérieux" in refused.text
    assert "mots de passe" in refused.text and _notices(runtime)[0].status == "draft"
    full = {**partial, **{f"field_{f}": f"valeur {f}" for f in CAI}}
    _use(runtime, None, port=free_port())  # nothing listens: the send fails
    failed = post_form(client, url, action, full)
    assert failed.status_code == 502 and "stays a draft" in failed.text
    assert _notices(runtime)[0].status == "draft"
    with SmtpServer() as server:
        _use(runtime, server)
        sent = post_form(client, url, action, full)
        (received,) = server.wait_for(1)
    assert sent.status_code == 303
    notice = _notices(runtime)[0]
    assert notice.status == "sent" and "valeur risk_elements" in notice.copy
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None and "valeur risk_elements" in body.get_content()
    page = client.get(url).text
    assert f'data-testid="notice-status-{notice.id}">Sent' in page
    recorded = post_form(
        client,
        url,
        f"{url}/register",
        {"reg_persons_affected": "about 300", "reg_public_notice": "no"},
    )
    assert recorded.status_code == 303
    post_form(client, url, f"{url}/register", {"reg_persons_affected": "312"})
    page = client.get(url).text
    assert 'data-testid="register-entry"' in page and 'data-testid="register-version-2"' in page
    assert notice.copy_sha256[:12] in page
    register = client.get("/incidents/register", params={"case": case_id}).text
    assert f'data-testid="register-row-{case_id}"' in register and "312" in register
    assert 'data-testid="register-version-1"' in register
    csv_file = client.get("/incidents/register.csv", params={"language": "es"})
    assert csv_file.content.startswith("\ufeff".encode()) and "312" in csv_file.text
    assert client.get("/incidents/register.pdf").content.startswith(b"%PDF")


def test_roles_and_scope(runtime: Runtime, as_role: Any) -> None:
    water = _new_case(runtime, "Water", Sector.WATER)
    transit = _new_case(runtime, "Transit", Sector.TRANSPORT)
    admin = as_role(Role.ADMIN, "admin")
    for cid in (water, transit):
        assert (
            post_form(admin, f"/incidents/{cid}", f"/incidents/{cid}/register", {}).status_code
            == 303
        )
    for role in (Role.RESPONDER, Role.VIEWER, Role.SECTOR_OPERATOR):
        client = as_role(role)
        page = client.get(f"/incidents/{water}")
        assert page.status_code == 200 and 'data-testid="register-entry"' in page.text
        assert 'data-testid="notice-new"' not in page.text
        refused = post_form(client, f"/incidents/{water}", f"/incidents/{water}/register", {})
        assert refused.status_code == 403, role
    operator = as_role(Role.SECTOR_OPERATOR, "op2", sectors=[Sector.WATER])
    seen = operator.get("/incidents/register").text
    assert f"register-row-{water}" in seen and f"register-row-{transit}" not in seen
    assert (
        operator.get("/incidents/register", params={"case": transit}).text.count(
            "register-version-"
        )
        == 0
    )
