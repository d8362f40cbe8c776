"""Escalating reminders before each deadline: the job raises one `CaseReminder` per clock, level
and deadline once its instant has passed (re-runs raise nothing twice), an "overdue" reminder
once after the deadline, and e-mails the case's owner and team from the e-mail level on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import accounts, audit, jobs
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import Conflict, NotFound
from civicshield.incidents.cases import Scope
from civicshield.incidents.legal._common import in_scope
from civicshield.incidents.legal.config import LegalConfig
from civicshield.incidents.legal.schemas import ReminderRead
from civicshield.incidents.legal.views import ClockView, clocks_due
from civicshield.incidents.models import Case, CaseReminder
from civicshield.incidents.schemas import CaseStatus

__all__ = ["acknowledge_reminder", "list_reminders", "raise_reminders"]

OVERDUE = "overdue"


def _addresses(session: Session, case: Case) -> list[str]:
    """E-mail addresses of the case's owner and team; names without an account or an address
    are skipped."""
    out: list[str] = []
    for name in dict.fromkeys([case.owner, *case.team]):
        if not name:
            continue
        try:
            user = accounts.get_user_by_username(session, name)
        except NotFound:
            continue
        if user.email and user.is_active and user.email not in out:
            out.append(user.email)
    return out


def _due_now(view: ClockView, now: datetime) -> list[tuple[int, str, list[str]]]:
    """(level, reason, channels) of each reminder passed and not raised; after the deadline,
    only the overdue one (levels missed meanwhile are not raised late)."""
    assert view.due_at is not None
    if now >= view.due_at:
        level = max((r.level for r in view.reminders), default=0) + 1
        return [(level, OVERDUE, ["in-app", "email"])]
    return [
        (r.level, r.reason, r.channels) for r in view.reminders if r.at <= now and r.raised is None
    ]


def raise_reminders(
    session: Session,
    *,
    config: LegalConfig,
    clock: Clock,
    registry: jobs.JobRegistry | None = None,
) -> list[ReminderRead]:
    """Raise every reminder that is due on the running clocks of open cases; returns the new
    ones. With a job registry (and e-mail on in the settings), queue one `mail.send` per clock
    for its highest new reminder that has the e-mail channel."""
    now = clock.now()
    have = {
        (r.case_id, r.obligation_id, r.level, as_utc(r.due_at))
        for r in session.scalars(
            select(CaseReminder)
            .join(Case, Case.id == CaseReminder.case_id)
            .where(Case.status != CaseStatus.CLOSED.value)
        )
    }
    made: list[ReminderRead] = []
    for item in clocks_due(session, now=now, within=None, settings_or_config=config):
        view = item.clock
        if view.due_at is None or view.status == "suspended":
            continue
        new = [
            CaseReminder(
                case_id=view.case_id,
                obligation_id=view.obligation_id,
                level=level,
                reason=reason,
                due_at=view.due_at,
                raised_at=now,
                channels=channels,
                emailed_to=[],
            )
            for level, reason, channels in _due_now(view, now)
            if (view.case_id, view.obligation_id, level, view.due_at) not in have
        ]
        if not new:
            continue
        session.add_all(new)
        session.flush()
        mailing = [r for r in new if "email" in r.channels]
        if mailing and registry is not None and config.reminder_email:
            _mail(session, mailing[-1], item.case_title, view, config, registry, clock)
        made.extend(ReminderRead.model_validate(r) for r in new)
    return made


def _mail(
    session: Session,
    row: CaseReminder,
    title: str,
    view: ClockView,
    config: LegalConfig,
    registry: jobs.JobRegistry,
    clock: Clock,
) -> None:
    case = session.get(Case, row.case_id)
    to = _addresses(session, case) if case is not None else []
    if not to:
        return
    when = view.due_local or ""
    label = "internal target" if view.kind == "internal-target" else "statutory deadline"
    subject = f"[CivicShield] case {row.case_id}: {view.obligation_id} {row.reason} ({when})"
    text = (
        f"Case {row.case_id} ({title}): {view.title['en']} ({view.article}).\n"
        f"Recipient: {view.recipient['en']}\nDue: {when} ({label})\n"
        f"Reminder level {row.level} ({row.reason}).\n"
        f"Open the case: /incidents/{row.case_id}#clocks\n"
    )
    jobs.enqueue(
        session, "mail.send", registry=registry, clock=clock,
        args={"to": to, "subject": subject, "text": text}, requested_by="incidents.reminders",
    )  # fmt: skip
    row.emailed_to = to
    session.flush()


def list_reminders(
    session: Session,
    *,
    scope: Scope = None,
    case_id: int | None = None,
    unacknowledged: bool = False,
) -> list[ReminderRead]:
    """Reminders, newest first: of one case, or of every case in scope."""
    stmt = select(CaseReminder, Case.sectors).join(Case, Case.id == CaseReminder.case_id)
    if case_id is not None:
        in_scope(session, case_id, scope)
        stmt = stmt.where(CaseReminder.case_id == case_id)
    if unacknowledged:
        stmt = stmt.where(CaseReminder.acknowledged_at.is_(None))
    allowed = None if scope is None else {s.value for s in scope}
    rows = session.execute(stmt.order_by(CaseReminder.raised_at.desc(), CaseReminder.id.desc()))
    return [
        ReminderRead.model_validate(r)
        for r, sectors in rows
        if allowed is None or set(sectors) & allowed
    ]


def acknowledge_reminder(
    session: Session, reminder_id: int, *, actor: Actor, clock: Clock, scope: Scope = None
) -> ReminderRead:
    row = session.get(CaseReminder, reminder_id)
    if row is None:
        raise NotFound(f"reminder {reminder_id} does not exist")
    try:
        in_scope(session, row.case_id, scope)
    except NotFound:
        raise NotFound(f"reminder {reminder_id} does not exist") from None
    if row.acknowledged_at is not None:
        raise Conflict(f"reminder {reminder_id} was already acknowledged by {row.acknowledged_by}")
    row.acknowledged_at, row.acknowledged_by = clock.now(), actor.label
    session.flush()
    audit.record(
        session, actor=actor, action="case.reminder.ack", entity_type="case",
        entity_id=row.case_id, clock=clock,
        summary=f"case {row.case_id}: reminder {row.level} of {row.obligation_id} acknowledged",
    )  # fmt: skip
    return ReminderRead.model_validate(row)
