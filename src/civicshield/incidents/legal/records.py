"""Recorded decisions on a case's clocks: risk assessments (kept even when the answer is "do
not notify"; the latest per requirement counts) and investigation holds (reason, authority and
review date required; only on obligations the law lets wait)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.core.actor import Actor
from civicshield.core.clock import Clock, as_utc
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.incidents.cases import Scope
from civicshield.incidents.clocks import REQUIREMENTS
from civicshield.incidents.legal._common import in_scope, note_change
from civicshield.incidents.legal.config import LegalConfig
from civicshield.incidents.legal.schemas import (
    AssessmentCreate,
    AssessmentRead,
    HoldCreate,
    HoldRead,
)
from civicshield.incidents.models import CaseAssessment, CaseClock, CaseHold

__all__ = ["lift_hold", "list_assessments", "list_holds", "place_hold", "record_assessment"]


def record_assessment(
    session: Session,
    case_id: int,
    data: AssessmentCreate,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> AssessmentRead:
    case = in_scope(session, case_id, scope)
    if data.requirement not in REQUIREMENTS:
        raise Invalid(
            f"unknown requirement {data.requirement!r}",
            [FieldError(("body", "requirement"), f"use one of: {', '.join(REQUIREMENTS)}")],
        )
    if not data.reasoning.strip():
        raise Invalid(
            "an assessment records its reasoning", [FieldError(("body", "reasoning"), "required")]
        )
    factors = {k.strip(): v.strip() for k, v in data.factors.items() if k.strip() and v.strip()}
    row = CaseAssessment(
        case_id=case.id, requirement=data.requirement, met=data.met, factors=factors,
        reasoning=data.reasoning.strip(), consulted=data.consulted, assessed_at=clock.now(),
        assessed_by=actor.label,
    )  # fmt: skip
    session.add(row)
    session.flush()
    answer = "met" if data.met else "not met"
    note_change(
        session, case, "assessment", None, f"{data.requirement}: {answer}", actor=actor,
        clock=clock, action="case.assessment", summary=f"{data.requirement} assessed {answer}",
        reason=row.reasoning,
    )  # fmt: skip
    return AssessmentRead.model_validate(row)


def list_assessments(
    session: Session, case_id: int, *, scope: Scope = None
) -> list[AssessmentRead]:
    case = in_scope(session, case_id, scope)
    rows = session.scalars(
        select(CaseAssessment).where(CaseAssessment.case_id == case.id).order_by(CaseAssessment.id)
    )
    return [AssessmentRead.model_validate(r) for r in rows]


def _suspendable_text(config: LegalConfig) -> str:
    found = [
        f"{ob.id} ({ob.suspension_article})"
        for p in config.profiles.values()
        for ob in p.obligations
        if ob.suspendable
    ]
    return ", ".join(found) or "none of the offered profiles"


def place_hold(
    session: Session,
    case_id: int,
    data: HoldCreate,
    *,
    config: LegalConfig,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> HoldRead:
    """Hold one suspendable clock (or, without an obligation, every suspendable clock the case
    runs); an obligation the law never lets wait is refused with its article."""
    case = in_scope(session, case_id, scope)
    for name in ("reason", "authority"):
        if not getattr(data, name).strip():
            raise Invalid(
                f"an investigation hold needs its {name}", [FieldError(("body", name), "required")]
            )
    running = set(
        session.scalars(
            select(CaseClock.obligation_id).where(
                CaseClock.case_id == case.id, CaseClock.withdrawn_at.is_(None)
            )
        )
    )
    if data.obligation_id:
        ob = config.obligation(data.obligation_id)
        if not ob.suspendable:
            raise Invalid(
                f"{ob.id} ({ob.article}) cannot be held for an investigation; only these "
                f"obligations can: {_suspendable_text(config)}",
                [FieldError(("body", "obligation_id"), "this obligation cannot be suspended")],
            )
    elif not any(config.obligation(o).suspendable for o in running if _offered(config, o)):
        raise Invalid(
            f"case {case.id} runs no clock that can be held; only these obligations can: "
            f"{_suspendable_text(config)}",
            [FieldError(("body", "obligation_id"), "no suspendable clock on this case")],
        )
    now = clock.now()
    start = as_utc(data.start) if data.start is not None else now
    if start > now:
        raise Invalid(
            "a hold cannot start in the future", [FieldError(("body", "start"), "in the future")]
        )
    row = CaseHold(
        case_id=case.id, obligation_id=data.obligation_id or None, start=start, end=None,
        reason=data.reason.strip(), authority=data.authority.strip(),
        review_on=data.review_on.isoformat(), recorded_at=now, recorded_by=actor.label,
    )  # fmt: skip
    session.add(row)
    session.flush()
    target = data.obligation_id or "suspendable clocks"
    note_change(
        session, case, "hold", None,
        f"{target}: {row.authority}, review {row.review_on}", actor=actor, clock=clock,
        action="case.hold", summary=f"investigation hold #{row.id} on {target}",
        reason=row.reason,
    )  # fmt: skip
    return HoldRead.model_validate(row)


def _offered(config: LegalConfig, obligation_id: str) -> bool:
    return obligation_id in config.obligation_ids()


def lift_hold(
    session: Session,
    case_id: int,
    hold_id: int,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
    reason: str = "",
) -> HoldRead:
    case = in_scope(session, case_id, scope)
    row = session.get(CaseHold, hold_id)
    if row is None or row.case_id != case.id:
        raise NotFound(f"hold {hold_id} does not exist on case {case.id}")
    if row.end is not None:
        raise Conflict(f"hold {hold_id} was already lifted")
    row.end, row.lifted_by = clock.now(), actor.label
    note_change(
        session, case, "hold", f"#{row.id} {row.obligation_id or 'suspendable clocks'}",
        "lifted", actor=actor, clock=clock, action="case.hold.lift",
        summary=f"investigation hold #{row.id} lifted", reason=reason,
    )  # fmt: skip
    return HoldRead.model_validate(row)


def list_holds(session: Session, case_id: int, *, scope: Scope = None) -> list[HoldRead]:
    case = in_scope(session, case_id, scope)
    rows = session.scalars(
        select(CaseHold).where(CaseHold.case_id == case.id).order_by(CaseHold.id)
    )
    return [HoldRead.model_validate(r) for r in rows]
