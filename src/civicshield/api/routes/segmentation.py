"""`/api/v1/segmentation`: the city's network segmentation policy — read it (rules:read), check
a draft (rules:read), save or go back to the default (rules:manage), and preview what a policy
would have flagged in the stored flows (events:read)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Depends
from pydantic import BaseModel, Field

from civicshield import telemetry
from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import resource_router
from civicshield.core.errors import FieldError, Invalid
from civicshield.telemetry import PolicyCheck, PolicyState

__all__ = ["router"]

router = resource_router("/segmentation", "segmentation")
READ = [Depends(require(Permission.RULES_READ))]
MANAGE = [Depends(require(Permission.RULES_MANAGE))]
HUNT = [Depends(require(Permission.EVENTS_READ))]


class PolicyText(BaseModel):
    text: str = Field(min_length=1, max_length=512 * 1024, description="The policy as YAML.")


class PreviewRequest(BaseModel):
    text: str | None = Field(
        default=None, max_length=512 * 1024, description="A draft; the current policy if absent."
    )
    days: int = Field(default=7, ge=1, le=90)


class IssueOut(BaseModel):
    level: str
    where: str
    message: str


class CheckOut(BaseModel):
    valid: bool
    issues: list[IssueOut]
    zones: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []


class PolicyOut(CheckOut):
    source: str = Field(description="`city` (saved) or `default`.")
    saved_at: datetime | None
    version: str | None
    text: str


def _check(checked: PolicyCheck) -> dict[str, Any]:
    policy = checked.policy
    return {
        "valid": not checked.errors,
        "issues": [
            IssueOut(level=i.level, where=i.where, message=i.message) for i in checked.issues
        ],
        "zones": [z.model_dump() for z in policy.zones] if policy else [],
        "rules": [r.model_dump(by_alias=True) for r in policy.rules] if policy else [],
    }


def _state(state: PolicyState) -> PolicyOut:
    policy = state.check.policy
    return PolicyOut(
        **_check(state.check), source=state.source, saved_at=state.saved_at,
        version=policy.version if policy else None, text=state.text,
    )  # fmt: skip


@router.get("/policy", dependencies=READ, summary="The policy in force")
def get_segmentation_policy(runtime: RuntimeDep) -> PolicyOut:
    return _state(telemetry.current_policy(runtime.settings))


@router.put("/policy", dependencies=MANAGE, summary="Save the city's policy (refused with errors)")
def put_segmentation_policy(
    body: PolicyText, session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
) -> PolicyOut:
    state = telemetry.save_policy(
        session, runtime.settings, body.text, actor=principal.actor, clock=runtime.clock
    )
    return _state(state)


@router.delete("/policy", dependencies=MANAGE, summary="Go back to the default policy")
def delete_segmentation_policy(
    session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep
) -> PolicyOut:
    state = telemetry.reset_policy(
        session, runtime.settings, actor=principal.actor, clock=runtime.clock
    )
    return _state(state)


@router.post("/check", dependencies=READ, summary="Check a draft policy without saving it")
def check_segmentation_policy(body: PolicyText) -> CheckOut:
    return CheckOut(**_check(telemetry.check_policy_text(body.text)))


@router.post("/preview", dependencies=HUNT, summary="What a policy would have flagged")
def preview_segmentation_policy(body: PreviewRequest, runtime: RuntimeDep) -> dict[str, Any]:
    text = body.text or telemetry.current_policy(runtime.settings).text
    checked = telemetry.check_policy_text(text)
    if checked.policy is None or checked.errors:
        raise Invalid(
            "the policy has errors; fix them to preview it",
            [FieldError(("body", "text", i.where), i.message) for i in checked.errors],
        )
    found = telemetry.preview_policy(
        runtime.settings, checked.policy, now=runtime.clock.now(), days=body.days
    )
    return found.to_dict()
