"""Turn a playbook into concrete tasks for a case (`plan`) and rank playbooks for an alert
(`suggest`). Pure: no database, no clock of its own — the caller passes the case start."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from functools import cache
from types import MappingProxyType

from civicshield.core import FieldError, Invalid
from civicshield.incidents.playbooks.loader import load_playbooks
from civicshield.incidents.playbooks.model import PlannedTask, Playbook
from civicshield.incidents.playbooks.vocabulary import LANGUAGE_KEYS

__all__ = ["plan", "suggest"]

# Weights: a technique names what happened, a rule tag what the rule author saw, a sector only
# where; sector alone never suggests a playbook.
_TECHNIQUE, _TAG, _SECTOR = 3, 2, 1


def plan(playbook: Playbook, *, start: datetime, lang: str = "en") -> list[PlannedTask]:
    """Tasks with due instants in UTC for a case started at `start` (timezone-aware), texts in
    `lang` ("en", "es", "fr" or a UI tag such as "es-MX"); ordered by due time, then template
    order."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise Invalid("start must carry a time zone", [FieldError(("start",), "naive datetime")])
    key = lang.split("-")[0].lower()
    if key not in LANGUAGE_KEYS:
        raise Invalid(
            f"unsupported language {lang!r}",
            [FieldError(("lang",), f"use one of: {', '.join(LANGUAGE_KEYS)}")],
        )
    origin = start.astimezone(UTC)
    tasks: list[tuple[datetime, int, PlannedTask]] = []
    for phase in playbook.phases:
        phase_start = origin + timedelta(hours=phase.starts_after_hours)
        for task in phase.tasks:
            base = phase_start if task.due_from == "phase" else origin
            action = task.automated_action
            planned = PlannedTask(
                playbook_id=playbook.id,
                playbook_version=playbook.version,
                phase=phase.id,
                task_id=task.id,
                title=task.title.get(key),
                role=task.role,
                due_at=base + timedelta(hours=task.due_after_hours),
                checklist=tuple(item.get(key) for item in task.checklist),
                evidence=tuple(item.get(key) for item in task.evidence),
                action=action,
                requires_approval=action is not None and action.requires_approval,
            )
            tasks.append((planned.due_at, len(tasks), planned))
    return [item for _, _, item in sorted(tasks, key=lambda t: (t[0], t[1]))]


def suggest(
    rule_tags: Iterable[str],
    techniques: Iterable[str],
    sectors: Iterable[str],
    *,
    playbooks: Mapping[str, Playbook] | None = None,
) -> list[Playbook]:
    """Playbooks that fit an alert, best first. Sigma tags such as "attack.t1486" count as
    techniques; a sub-technique (T1110.001) matches its parent (T1110) and the reverse."""
    if playbooks is None:
        playbooks = _shipped()
    tags = {t.strip().lower() for t in rule_tags}
    wanted = {t.strip().upper() for t in techniques}
    wanted |= {t.removeprefix("attack.").upper() for t in tags if _is_technique_tag(t)}
    wanted_parents = {t.split(".")[0] for t in wanted}
    where = {s.strip().lower() for s in sectors}
    scored: list[tuple[int, str, Playbook]] = []
    for playbook in playbooks.values():
        fit = playbook.applies_to
        hits = sum(t in wanted or t.split(".")[0] in wanted_parents for t in fit.techniques)
        tag_hits = len(tags & set(fit.rule_tags))
        if not hits and not tag_hits:
            continue
        score = _TECHNIQUE * hits + _TAG * tag_hits + _SECTOR * len(where & set(fit.sectors))
        scored.append((-score, playbook.id, playbook))
    return [playbook for _, _, playbook in sorted(scored, key=lambda s: (s[0], s[1]))]


@cache
def _shipped() -> Mapping[str, Playbook]:
    # The shipped templates never change while the process runs; read-only so callers cannot
    # alter the cached copy.
    return MappingProxyType(load_playbooks())


def _is_technique_tag(tag: str) -> bool:
    name = tag.removeprefix("attack.")
    return name != tag and name[:1] == "t" and name[1:5].isdigit()
