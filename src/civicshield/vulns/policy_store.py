"""The prioritisation policy's versions in the database: the highest version is in force.

Versions are only ever added (an edit is a new version with a note), so every finding's
`policy_version` still says which rules decided it. Version 1 is the built-in default, written
the first time a policy is needed.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import SYSTEM, Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import FieldError, Invalid
from civicshield.vulns.models import PriorityPolicy
from civicshield.vulns.policy import Policy, default_policy
from civicshield.vulns.schemas import PolicyRead

__all__ = ["current_policy", "list_policies", "policy_error", "save_policy"]


def _latest(session: Session) -> PriorityPolicy | None:
    return session.scalars(
        select(PriorityPolicy).order_by(PriorityPolicy.version.desc()).limit(1)
    ).first()


def current_policy(session: Session, *, clock: Clock) -> tuple[int, Policy]:
    row = _latest(session)
    if row is None:
        row = PriorityPolicy(
            version=1,
            data=default_policy().model_dump(mode="json"),
            note="built-in default",
            created_at=clock.now(),
            created_by=SYSTEM.label,
        )
        session.add(row)
        session.flush()
    return row.version, Policy.model_validate(row.data)


def policy_error(exc: ValidationError) -> Invalid:
    """The first problem of a policy document, named by its path (`sla.act_days`)."""
    err = exc.errors()[0]
    path = ".".join(str(p) for p in err["loc"]) or "policy"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    message = f"policy {path}: {err['msg']}{more}"
    return Invalid(message, [FieldError(("body", "data", *err["loc"]), str(err["msg"]))])


def save_policy(
    session: Session, data: dict[str, Any], *, note: str, actor: Actor, clock: Clock
) -> PolicyRead:
    """Validate `data` and add it as the next version. Re-assessing findings is the caller's
    next step (`vulns.reassess`)."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise policy_error(exc) from None
    version, current = current_policy(session, clock=clock)
    if policy == current:
        raise Invalid(f"the policy is the same as version {version}; nothing to save")
    row = PriorityPolicy(
        version=version + 1,
        data=policy.model_dump(mode="json"),
        note=note.strip(),
        created_at=clock.now(),
        created_by=actor.label,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="vulns.policy.save",
        entity_type="priority_policy",
        entity_id=row.version,
        clock=clock,
        summary=f"prioritisation policy version {row.version}: {row.note or 'no note'}",
        changes={"version": [version, row.version]},
    )
    return _read(row)


def _read(row: PriorityPolicy) -> PolicyRead:
    return PolicyRead(
        version=row.version,
        data=row.data,
        note=row.note,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def list_policies(session: Session, *, clock: Clock) -> list[PolicyRead]:
    current_policy(session, clock=clock)
    rows = session.scalars(select(PriorityPolicy).order_by(PriorityPolicy.version.desc()))
    return [_read(r) for r in rows]
