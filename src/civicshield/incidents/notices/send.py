"""Sending a notice: every required field present (one error per missing field, naming its
label and article), the copy rendered as plain text in the notice's language, then sent by
e-mail through the mailer or recorded as sent by another channel at the time given.

A sent notice keeps its exact copy and SHA-256 and never changes; sending it records a
`notification_sent` start event for its obligation (follow-up clocks start from it), one
`notice` row in the case history and an audit entry. If the mail server fails, nothing is
recorded: the notice stays a draft.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, FieldError, Invalid
from civicshield.incidents.cases import Scope, load_case, record_change
from civicshield.incidents.clocks import Obligation, Profile
from civicshield.incidents.models import Case, CaseNotice, CaseStartEvent
from civicshield.incidents.notices.drafts import (
    check_address,
    load_notice,
    notice_obligation,
    to_read,
)
from civicshield.incidents.notices.schemas import NoticeRead
from civicshield.mail import Mailer, OutgoingMail

__all__ = ["missing_fields", "render_copy", "send_notice", "subject_of"]

# Words of the copy itself (data in the notice's language, like the profiles' labels).
_WORDS = {
    "en": {"case": "Incident", "to": "To", "law": "Legal basis", "from": "From"},
    "es": {"case": "Incidente", "to": "Para", "law": "Fundamento legal", "from": "De"},
    "fr": {"case": "Incident", "to": "À", "law": "Fondement juridique", "from": "De"},
}


def _words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["en"])


def missing_fields(ob: Obligation, notice: CaseNotice) -> list[FieldError]:
    """One error per required field left empty, naming its label and article."""
    return [
        FieldError(
            ("body", "fields", f.id),
            f"required: {f.label.get(notice.language)} ({f.article})",
        )
        for f in ob.notice_fields
        if not notice.fields.get(f.id, "").strip()
    ]


def subject_of(city: str, case: Case, ob: Obligation, lang: str) -> str:
    return f"{city} — {_words(lang)['case']} {case.id}: {ob.title.get(lang)}"


def render_copy(city: str, case: Case, ob: Obligation, notice: CaseNotice) -> str:
    """The notice as plain text: header, then each required field with its label."""
    lang, w = notice.language, _words(notice.language)
    lines = [
        subject_of(city, case, ob, lang),
        "",
        f"{w['from']}: {city}",
        f"{w['to']}: {notice.recipient}" + (f" <{notice.address}>" if notice.address else ""),
        f"{w['law']}: {ob.article}",
        "",
    ]
    for f in ob.notice_fields:
        lines += [f"{f.label.get(lang)} ({f.article})", notice.fields.get(f.id, "").strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def _when(sent_at: datetime | None, notice: CaseNotice, clock: Clock) -> datetime:
    now = clock.now()
    if notice.channel == "email":
        if sent_at is not None:
            raise Invalid(
                "an e-mail notice is sent now: give no sent_at",
                [FieldError(("body", "sent_at"), "only for channels other than e-mail")],
            )
        return now
    if sent_at is None:
        return now
    if sent_at.tzinfo is None or sent_at.utcoffset() is None:
        raise Invalid(
            "sent_at needs its offset (e.g. 2026-03-07T20:00-05:00)",
            [FieldError(("body", "sent_at"), "no offset")],
        )
    if sent_at > now:
        raise Invalid(
            "a notice cannot have been sent in the future",
            [FieldError(("body", "sent_at"), "in the future")],
        )
    return sent_at.astimezone(UTC)


def send_notice(
    session: Session,
    case_id: int,
    notice_id: int,
    profiles: Mapping[str, Profile],
    *,
    mailer: Mailer,
    city: str,
    actor: Actor,
    clock: Clock,
    sent_at: datetime | None = None,
    scope: Scope = None,
) -> NoticeRead:
    """Send (e-mail) or record as sent (other channels); ExternalServiceError when mail fails."""
    notice = load_notice(session, case_id, notice_id, scope)
    if notice.status != "draft":
        raise Conflict(f"notice {notice.id} was already sent on {notice.sent_at}")
    case = load_case(session, case_id, scope)
    ob = notice_obligation(profiles, notice.obligation_id)
    errors = missing_fields(ob, notice)
    if notice.channel == "email" and not notice.address:
        errors.append(FieldError(("body", "address"), "required: an e-mail address"))
    if errors:
        names = ", ".join(str(e.loc[-1]) for e in errors)
        raise Invalid(f"the notice for {ob.id} cannot be sent without: {names}", errors)
    check_address(notice.channel, notice.address)
    at = _when(sent_at, notice, clock)
    copy = render_copy(city, case, ob, notice)
    message_id = ""
    if notice.channel == "email" and not mailer.config.host:
        raise Conflict(
            "e-mail is not configured on this server (CIVICSHIELD_SMTP_HOST): send the notice "
            "through another channel and record it as sent, or configure mail"
        )
    if notice.channel == "email":
        message_id = mailer.send(
            OutgoingMail(
                to=[notice.address], subject=subject_of(city, case, ob, notice.language), text=copy
            )
        )
    notice.status, notice.sent_at, notice.sent_by = "sent", at, actor.label
    notice.copy, notice.message_id = copy, message_id
    notice.copy_sha256 = hashlib.sha256(copy.encode("utf-8")).hexdigest()
    notice.updated_at = clock.now()
    session.add(
        CaseStartEvent(
            case_id=case.id,
            kind="notification_sent",
            obligation_id=ob.id,
            at=at,
            zone="UTC",
            note=f"notice {notice.id} sent by {notice.channel}",
            recorded_at=clock.now(),
            recorded_by=actor.label,
        )
    )
    sent = {
        "id": notice.id,
        "obligation": ob.id,
        "recipient": notice.recipient,
        "channel": notice.channel,
        "sent_at": at.isoformat(),
        "sha256": notice.copy_sha256,
    }
    record_change(session, case, {"notice": (None, sent)}, actor=actor, clock=clock)
    audit.record(
        session,
        actor=actor,
        action="notice.send",
        entity_type="case",
        entity_id=case.id,
        clock=clock,
        changes=sent,
        summary=f"case {case.id}: notice {notice.id} for {ob.id} sent by {notice.channel}",
    )
    session.flush()
    return to_read(notice, ob)
