"""Pydantic models of a playbook template (see docs/incident-playbooks.md for the format).

Rules that need the whole playbook (unique ids, known owners, the approval rule) are checked in
`Playbook`'s validator and report the path of the offending item, so the loader can point at
the YAML node.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from civicshield.core import Sector, Severity
from civicshield.incidents.playbooks.vocabulary import (
    ACTION_KINDS,
    ACTION_TARGETS,
    APPROVAL_TARGETS,
    CONDITIONS,
    OBLIGATION_IDS,
    PHASES,
    PLATFORM_ROLES,
)

__all__ = [
    "AppliesTo",
    "AutomatedAction",
    "ClockRule",
    "Phase",
    "PlannedTask",
    "Playbook",
    "PlaybookRuleError",
    "Task",
    "Text",
]

_ID = r"^[a-z0-9][a-z0-9_-]*$"
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
# Actions that only make sense on one kind of target, so their target cannot be mislabelled
# to dodge the approval rule.
_BOUND_TARGETS = {"reset_camera_credentials": "camera"}


class PlaybookRuleError(ValueError):
    """A whole-playbook rule broken at `loc` (a path inside the template)."""

    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc, self.msg = loc, msg


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(_Strict):
    """One text in the three languages of the UI; none may be missing or empty."""

    en: str = Field(min_length=1)
    es: str = Field(min_length=1)
    fr: str = Field(min_length=1)

    def get(self, key: str) -> str:
        return str(getattr(self, key))


class AppliesTo(_Strict):
    """What in an alert suggests this playbook."""

    sectors: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    rule_tags: tuple[str, ...] = ()

    @field_validator("techniques")
    @classmethod
    def _techniques(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not _TECHNIQUE.match(item):
                raise ValueError(f"{item!r} is not an ATT&CK technique id (T1234 or T1234.001)")
        return value

    @field_validator("sectors")
    @classmethod
    def _sectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = {s.value for s in Sector}
        for item in value:
            if item not in known:
                raise ValueError(
                    f"unknown sector {item!r} (use one of: {', '.join(sorted(known))})"
                )
        return value

    @field_validator("rule_tags")
    @classmethod
    def _tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(v.lower() for v in value)


class ClockRule(_Strict):
    """A legal clock the playbook may start, and when."""

    obligation: str
    condition: str
    note: Text

    @field_validator("obligation")
    @classmethod
    def _obligation(cls, value: str) -> str:
        if value not in OBLIGATION_IDS:
            raise ValueError(f"unknown obligation id {value!r} (see the clock profiles)")
        return value

    @field_validator("condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        if value not in CONDITIONS:
            raise ValueError(
                f"unknown condition {value!r} (use one of: {', '.join(sorted(CONDITIONS))})"
            )
        return value


class AutomatedAction(_Strict):
    kind: str
    target: str
    requires_approval: bool
    description: Text

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in ACTION_KINDS:
            raise ValueError(
                f"unknown action {value!r} (use one of: {', '.join(sorted(ACTION_KINDS))})"
            )
        return value

    @field_validator("target")
    @classmethod
    def _target(cls, value: str) -> str:
        if value not in ACTION_TARGETS:
            raise ValueError(
                f"unknown target {value!r} (use one of: {', '.join(sorted(ACTION_TARGETS))})"
            )
        return value


class Task(_Strict):
    id: str = Field(pattern=_ID)
    title: Text
    role: str
    due_after_hours: float = Field(ge=0)
    due_from: Literal["case", "phase"] = "phase"
    checklist: tuple[Text, ...] = Field(min_length=1)
    automated_action: AutomatedAction | None = None
    evidence: tuple[Text, ...] = ()


class Phase(_Strict):
    id: str
    starts_after_hours: float = Field(default=0, ge=0)
    tasks: tuple[Task, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _phase(cls, value: str) -> str:
        if value not in PHASES:
            raise ValueError(f"unknown phase {value!r} (use one of: {', '.join(PHASES)})")
        return value


class Playbook(_Strict):
    id: str = Field(pattern=_ID)
    version: int = Field(ge=1)
    title: Text
    summary: Text
    severity: Severity
    applies_to: AppliesTo
    functions: dict[str, Text] = Field(default_factory=dict)
    clocks: tuple[ClockRule, ...] = ()
    phases: tuple[Phase, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _whole(self) -> Self:
        for name in self.functions:
            if not re.match(_ID, name) or name in PLATFORM_ROLES:
                raise PlaybookRuleError(("functions", name), f"bad function name {name!r}")
        seen_clocks: set[str] = set()
        for i, clock in enumerate(self.clocks):
            if clock.obligation in seen_clocks:
                raise PlaybookRuleError(("clocks", i, "obligation"), "obligation listed twice")
            seen_clocks.add(clock.obligation)
        order = [p.id for p in self.phases]
        for i, phase_id in enumerate(order):
            if phase_id in order[:i]:
                raise PlaybookRuleError(("phases", i, "id"), f"phase {phase_id!r} appears twice")
            if i and PHASES.index(phase_id) < PHASES.index(order[i - 1]):
                raise PlaybookRuleError(("phases", i, "id"), "phases must follow the NIST order")
        owners = PLATFORM_ROLES | set(self.functions)
        task_ids: set[str] = set()
        for p, phase in enumerate(self.phases):
            for t, task in enumerate(phase.tasks):
                at: tuple[str | int, ...] = ("phases", p, "tasks", t)
                if task.id in task_ids:
                    raise PlaybookRuleError((*at, "id"), f"task id {task.id!r} is not unique")
                task_ids.add(task.id)
                if task.role not in owners:
                    raise PlaybookRuleError(
                        (*at, "role"),
                        f"unknown role {task.role!r} (a platform role or one of `functions`)",
                    )
                _check_action(task.automated_action, (*at, "automated_action"))
        return self


def _check_action(action: AutomatedAction | None, at: tuple[str | int, ...]) -> None:
    if action is None:
        return
    bound = _BOUND_TARGETS.get(action.kind)
    if bound and action.target != bound:
        raise PlaybookRuleError((*at, "target"), f"{action.kind} acts on a {bound}")
    if action.target in APPROVAL_TARGETS and not action.requires_approval:
        raise PlaybookRuleError(
            (*at, "requires_approval"),
            f"an automated action on {action.target} must have requires_approval: true",
        )


@dataclass(frozen=True)
class PlannedTask:
    """One concrete task of an applied playbook, texts in one language, due in UTC."""

    playbook_id: str
    playbook_version: int
    phase: str
    task_id: str
    title: str
    role: str
    due_at: datetime
    checklist: tuple[str, ...]
    evidence: tuple[str, ...]
    action: AutomatedAction | None
    requires_approval: bool
