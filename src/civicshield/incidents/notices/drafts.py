"""Notice drafts: one per obligation that is met by notifying someone (not by the register),
with the regime's required fields in the chosen language, prefilled from the case where the
case knows the answer. A sent notice never changes again."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.core.settings import Settings
from civicshield.incidents.cases import Scope, load_case
from civicshield.incidents.clocks import (
    REGISTER_OBLIGATIONS,
    Obligation,
    Profile,
    load_profiles,
    with_targets,
)
from civicshield.incidents.models import Case, CaseClock, CaseNotice
from civicshield.incidents.notices.schemas import (
    NoticeChoice,
    NoticeCreate,
    NoticeFieldRead,
    NoticeRead,
    NoticeUpdate,
)

__all__ = [
    "create_notice",
    "get_notice",
    "list_notices",
    "notice_choices",
    "notice_obligation",
    "offered_profiles",
    "update_notice",
]

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_MAX_FIELD = 20_000


def offered_profiles(settings: Settings) -> dict[str, Profile]:
    """The loaded profiles with the city's targets, restricted to `incident_profiles` if set."""
    profiles = with_targets(settings.incident_targets, load_profiles())
    wanted = set(settings.incident_profiles)
    return {k: v for k, v in profiles.items() if not wanted or k in wanted}


def _noticeable(profiles: Mapping[str, Profile]) -> dict[str, Obligation]:
    return {
        ob.id: ob
        for p in profiles.values()
        for ob in p.obligations
        if ob.notice_fields and ob.id not in REGISTER_OBLIGATIONS
    }


def notice_obligation(profiles: Mapping[str, Profile], obligation_id: str) -> Obligation:
    """The obligation a notice is for; `Invalid` when unknown or met by the register."""
    found = _noticeable(profiles).get(obligation_id)
    if found is None:
        why = "met by a register entry" if obligation_id in REGISTER_OBLIGATIONS else "unknown"
        raise Invalid(
            f"no notice can be drafted for {obligation_id!r} ({why})",
            [FieldError(("body", "obligation_id"), f"{why} obligation")],
        )
    return found


def _running(session: Session, case_id: int) -> set[str]:
    rows = session.scalars(
        select(CaseClock.obligation_id).where(
            CaseClock.case_id == case_id, CaseClock.withdrawn_at.is_(None)
        )
    )
    return set(rows)


def notice_choices(
    session: Session,
    case_id: int,
    profiles: Mapping[str, Profile],
    *,
    lang: str = "en",
    scope: Scope = None,
) -> list[NoticeChoice]:
    """Obligations a notice can be drafted for; those the case runs first."""
    load_case(session, case_id, scope)
    running = _running(session, case_id)
    choices = [
        NoticeChoice(
            obligation_id=ob.id,
            title=ob.title.get(lang),
            article=ob.article,
            recipient=ob.recipient.get(lang),
            running=ob.id in running,
        )
        for ob in _noticeable(profiles).values()
    ]
    return sorted(choices, key=lambda c: (not c.running, c.obligation_id))


def to_read(notice: CaseNotice, ob: Obligation | None) -> NoticeRead:
    lang = notice.language
    required = [
        NoticeFieldRead(
            id=f.id,
            label=f.label.get(lang),
            article=f.article,
            value=notice.fields.get(f.id, ""),
        )
        for f in (ob.notice_fields if ob else ())
    ]
    return NoticeRead(
        id=notice.id,
        case_id=notice.case_id,
        obligation_id=notice.obligation_id,
        obligation_title=ob.title.get(lang) if ob else notice.obligation_id,
        article=ob.article if ob else "",
        language=lang,
        recipient=notice.recipient,
        address=notice.address,
        channel=notice.channel,
        fields=dict(notice.fields),
        required=required,
        status=notice.status,
        created_at=as_utc(notice.created_at),
        created_by=notice.created_by,
        updated_at=as_utc(notice.updated_at),
        sent_at=as_utc(notice.sent_at),
        sent_by=notice.sent_by,
        copy_text=notice.copy,
        copy_sha256=notice.copy_sha256,
        message_id=notice.message_id,
    )


def _prefill(case: Case, ob: Obligation) -> dict[str, str]:
    """What the case already says, for the fields whose id names it."""
    known = {
        "circumstances": case.description,
        "contact_person": case.owner,
        "contact": case.owner,
        "occurred_period": (as_utc(case.first_event_at).isoformat() if case.first_event_at else ""),
    }
    return {f.id: known[f.id] for f in ob.notice_fields if known.get(f.id)}


def check_fields(ob: Obligation, fields: Mapping[str, str]) -> dict[str, str]:
    ids = {f.id for f in ob.notice_fields}
    errors = [
        FieldError(("body", "fields", k), f"not a field of {ob.id}") for k in fields if k not in ids
    ]
    errors += [
        FieldError(("body", "fields", k), f"longer than {_MAX_FIELD} characters")
        for k, v in fields.items()
        if len(v) > _MAX_FIELD
    ]
    if errors:
        raise Invalid(f"the notice for {ob.id} has fields it cannot take", errors)
    return {k: v.strip() for k, v in fields.items()}


def check_address(channel: str, address: str) -> None:
    if channel == "email" and address and not _EMAIL.match(address):
        raise Invalid(
            f"{address!r} is not an e-mail address",
            [FieldError(("body", "address"), "not an e-mail address")],
        )


def create_notice(
    session: Session,
    case_id: int,
    data: NoticeCreate,
    profiles: Mapping[str, Profile],
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> NoticeRead:
    case = load_case(session, case_id, scope)
    ob = notice_obligation(profiles, data.obligation_id)
    fields = {**_prefill(case, ob), **check_fields(ob, data.fields)}
    check_address(data.channel, data.address)
    now = clock.now()
    notice = CaseNotice(
        case_id=case.id,
        obligation_id=ob.id,
        language=data.language,
        recipient=data.recipient or ob.recipient.get(data.language),
        address=data.address,
        channel=data.channel,
        fields=fields,
        status="draft",
        created_at=now,
        created_by=actor.label,
        updated_at=now,
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="notice.draft",
        entity_type="case",
        entity_id=case.id,
        clock=clock,
        summary=f"case {case.id}: notice {notice.id} drafted for {ob.id}",
    )
    return to_read(notice, ob)


def load_notice(session: Session, case_id: int, notice_id: int, scope: Scope) -> CaseNotice:
    load_case(session, case_id, scope)
    notice = session.get(CaseNotice, notice_id)
    if notice is None or notice.case_id != case_id:
        raise NotFound(f"notice {notice_id} of case {case_id} does not exist")
    return notice


def _obligation_of(profiles: Mapping[str, Profile], notice: CaseNotice) -> Obligation | None:
    return _noticeable(profiles).get(notice.obligation_id)


def get_notice(
    session: Session,
    case_id: int,
    notice_id: int,
    profiles: Mapping[str, Profile],
    *,
    scope: Scope = None,
) -> NoticeRead:
    notice = load_notice(session, case_id, notice_id, scope)
    return to_read(notice, _obligation_of(profiles, notice))


def list_notices(
    session: Session, case_id: int, profiles: Mapping[str, Profile], *, scope: Scope = None
) -> list[NoticeRead]:
    load_case(session, case_id, scope)
    rows = session.scalars(
        select(CaseNotice).where(CaseNotice.case_id == case_id).order_by(CaseNotice.id)
    )
    return [to_read(n, _obligation_of(profiles, n)) for n in rows]


def update_notice(
    session: Session,
    case_id: int,
    notice_id: int,
    data: NoticeUpdate,
    profiles: Mapping[str, Profile],
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> NoticeRead:
    notice = load_notice(session, case_id, notice_id, scope)
    if notice.status != "draft":
        raise Conflict(f"notice {notice.id} was sent on {notice.sent_at}: it cannot change")
    ob = notice_obligation(profiles, notice.obligation_id)
    changed: dict[str, Any] = {}
    for name in ("language", "recipient", "address", "channel"):
        value = getattr(data, name)
        if value is not None and value != getattr(notice, name):
            changed[name] = value
    if data.fields is not None:
        merged = {**notice.fields, **check_fields(ob, data.fields)}
        if merged != notice.fields:
            changed["fields"] = merged
    check_address(changed.get("channel", notice.channel), changed.get("address", notice.address))
    for name, value in changed.items():
        setattr(notice, name, value)
    if changed:
        notice.updated_at = clock.now()
        audit.record(
            session,
            actor=actor,
            action="notice.update",
            entity_type="case",
            entity_id=case_id,
            clock=clock,
            summary=f"case {case_id}: notice {notice.id} draft changed ({', '.join(changed)})",
        )
    return to_read(notice, ob)
