"""The confidentiality-incident register: one entry per case, kept as append-only versions.

Each version holds the union of the four regimes' fields (`fields.REGISTER_FIELDS`): what the
case, its risk assessments and its sent notices already say is prefilled; people fill the rest.
Every row's hash is the SHA-256 of the canonical JSON of (case_id, version, data, retain_until,
recorded_at, recorded_by, prev_hash), chained over the whole register (the first row's
prev_hash is 64 zeros), so `verify_register` finds the first row changed behind our back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import FieldError, Invalid
from civicshield.incidents.cases import Scope, load_case, record_change
from civicshield.incidents.clocks import REGISTER_OBLIGATIONS, Profile, retain_until
from civicshield.incidents.models import (
    CaseAssessment,
    CaseClock,
    CaseNotice,
    CaseStartEvent,
    RegisterEntry,
)
from civicshield.incidents.notices.fields import REGISTER_FIELDS
from civicshield.incidents.notices.schemas import RegisterEntryRead

__all__ = [
    "GENESIS",
    "entry_hash",
    "record_entry",
    "register_prefill",
]

GENESIS = "0" * 64
_NAMES = {f.name: f for f in REGISTER_FIELDS}
_MAX = 20_000


def _iso(value: datetime | None) -> str | None:
    aware = as_utc(value)
    return aware.astimezone(UTC).isoformat(timespec="microseconds") if aware else None


def entry_hash(row: RegisterEntry) -> str:
    content = {
        "case_id": row.case_id,
        "version": row.version,
        "data": row.data,
        "retain_until": _iso(row.retain_until),
        "recorded_at": _iso(row.recorded_at),
        "recorded_by": row.recorded_by,
        "prev_hash": row.prev_hash,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _latest_assessments(session: Session, case_id: int) -> list[CaseAssessment]:
    rows = session.scalars(
        select(CaseAssessment)
        .where(CaseAssessment.case_id == case_id)
        .order_by(CaseAssessment.assessed_at, CaseAssessment.id)
    )
    latest: dict[str, CaseAssessment] = {}
    for row in rows:
        latest[row.requirement] = row  # later rows win
    return list(latest.values())


def _sent_notices(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(CaseNotice)
        .where(CaseNotice.case_id == case_id, CaseNotice.status == "sent")
        .order_by(CaseNotice.sent_at, CaseNotice.id)
    )
    return [
        {
            "id": n.id,
            "obligation": n.obligation_id,
            "recipient": n.recipient,
            "channel": n.channel,
            "sent_at": _iso(n.sent_at),
            "sha256": n.copy_sha256,
        }
        for n in rows
    ]


def _events(session: Session, case_id: int, kind: str, obligation_id: str) -> datetime | None:
    """The earliest uncorrected start event of `kind`, one scoped to the obligation first."""
    rows = list(
        session.scalars(
            select(CaseStartEvent).where(
                CaseStartEvent.case_id == case_id, CaseStartEvent.kind == kind
            )
        )
    )
    corrected = {r.corrects for r in rows if r.corrects is not None}
    live = [r for r in rows if r.id not in corrected]
    scoped = [r for r in live if r.obligation_id == obligation_id]
    found = scoped or [r for r in live if r.obligation_id is None]
    return min(
        (as_utc(r.at) for r in found),
        key=lambda t: t or datetime.min.replace(tzinfo=UTC),
        default=None,
    )


def _retention(
    session: Session, case_id: int, profiles: Mapping[str, Profile]
) -> tuple[datetime | None, list[dict[str, Any]]]:
    """The latest retention of the register obligations the case runs, and one note each."""
    running = set(
        session.scalars(
            select(CaseClock.obligation_id).where(
                CaseClock.case_id == case_id, CaseClock.withdrawn_at.is_(None)
            )
        )
    )
    notes: list[dict[str, Any]] = []
    until: datetime | None = None
    for profile in profiles.values():
        for ob in profile.obligations:
            if ob.id not in REGISTER_OBLIGATIONS or ob.id not in running or not ob.retention:
                continue
            start = _events(session, case_id, ob.retention.start_event, ob.id)
            if start is None:
                notes.append(
                    {
                        "obligation": ob.id,
                        "until": None,
                        "note": f"retention starts when {ob.retention.start_event} is recorded",
                    }
                )
                continue
            end = retain_until(ob, start)
            notes.append(
                {
                    "obligation": ob.id,
                    "until": _iso(end),
                    "note": f"{ob.retention.months} months from "
                    f"{ob.retention.start_event} ({ob.retention.article})",
                }
            )
            if end is not None and (until is None or end > until):
                until = end
    return until, notes


def _latest(session: Session, case_id: int) -> RegisterEntry | None:
    return session.scalars(
        select(RegisterEntry)
        .where(RegisterEntry.case_id == case_id)
        .order_by(RegisterEntry.version.desc())
        .limit(1)
    ).first()


def register_prefill(session: Session, case_id: int, *, scope: Scope = None) -> dict[str, str]:
    """The people-filled fields: the latest version's, else what the case already says."""
    case = load_case(session, case_id, scope)
    latest = _latest(session, case_id)
    if latest is not None:
        return {f.name: str(latest.data.get(f.name, "")) for f in REGISTER_FIELDS}
    assessed = _latest_assessments(session, case_id)
    aware = _events(session, case_id, "became_aware", "")
    return {
        "circumstances": case.description,
        "occurred_from": _iso(case.first_event_at) or "",
        "aware_at": _iso(aware) or "",
        "risk_factors": "; ".join(
            f"{a.requirement}: " + ", ".join(f"{k}={v}" for k, v in a.factors.items())
            for a in assessed
        ),
        "risk_conclusion": "; ".join(
            f"{a.requirement}: {'met' if a.met else 'not met'}" for a in assessed
        ),
        "risk_reasoning": "\n".join(f"{a.requirement}: {a.reasoning}" for a in assessed),
        "contact_person": case.owner,
    }


def _check(fields: Mapping[str, str]) -> dict[str, str]:
    errors: list[FieldError] = []
    clean: dict[str, str] = {}
    for name, raw in fields.items():
        value = str(raw).strip()
        spec = _NAMES.get(name)
        if spec is None:
            errors.append(FieldError(("body", "fields", name), "not a register field"))
        elif len(value) > _MAX:
            errors.append(FieldError(("body", "fields", name), f"longer than {_MAX} characters"))
        elif value and spec.kind == "yesno" and value not in ("yes", "no"):
            errors.append(FieldError(("body", "fields", name), "yes or no"))
        elif value and spec.kind == "datetime":
            try:
                datetime.fromisoformat(value)
            except ValueError:
                errors.append(FieldError(("body", "fields", name), "not an ISO 8601 date or time"))
        clean[name] = value
    if errors:
        raise Invalid("the register entry has fields it cannot take", errors)
    return clean


def record_entry(
    session: Session,
    case_id: int,
    fields: Mapping[str, str],
    profiles: Mapping[str, Profile],
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> RegisterEntryRead:
    """Append a new version of the case's entry (unsent fields keep their prefilled value)."""
    case = load_case(session, case_id, scope)
    given = _check(fields)
    data: dict[str, Any] = {**register_prefill(session, case_id, scope=scope), **given}
    until, notes = _retention(session, case_id, profiles)
    data.update(
        case_id=case.id,
        case_title=case.title,
        notices=_sent_notices(session, case_id),
        retention=notes,
    )
    latest = _latest(session, case_id)
    last = session.scalars(select(RegisterEntry).order_by(RegisterEntry.id.desc()).limit(1)).first()
    row = RegisterEntry(
        case_id=case.id,
        version=(latest.version + 1) if latest else 1,
        data=data,
        retain_until=until,
        recorded_at=clock.now(),
        recorded_by=actor.label,
        prev_hash=last.hash if last else GENESIS,
    )
    row.hash = entry_hash(row)
    session.add(row)
    session.flush()
    record_change(
        session,
        case,
        {"register": (None, {"version": row.version, "hash": row.hash})},
        actor=actor,
        clock=clock,
    )
    audit.record(
        session,
        actor=actor,
        action="register.record",
        entity_type="case",
        entity_id=case.id,
        clock=clock,
        summary=f"case {case.id}: register entry version {row.version}",
    )
    return RegisterEntryRead.model_validate(row)
