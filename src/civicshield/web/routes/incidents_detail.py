"""One case (`/incidents/{id}`): sections reached by plain tab links — summary with the change
form (status, owner, severity, resolution, with a reason for the history), the linked alerts,
the tasks by phase (approve an automated action, done, skip), the playbook to apply (those that
`suggest` proposes for the case's alerts first) and the append-only history.

Every refusal of the domain (closing without a resolution, "done" before approval, a case that
follows another playbook) is shown on the page next to the form that caused it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from civicshield import alerts, incidents
from civicshield.alerts import AlertRead
from civicshield.core.enums import Role
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.incidents import CaseDetail, CaseUpdate
from civicshield.incidents.playbooks import PHASES, Playbook, load_playbooks, suggest
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.incidents import ManagePage, ReadPage, case_values, scope_of

__all__ = ["render_case", "router"]

router = APIRouter()

_ALERTS_SHOWN = 200  # a case page lists at most this many linked alerts
_PHASES = {
    "preparation": N_("Preparation"),
    "detection_analysis": N_("Detection and analysis"),
    "containment": N_("Containment"),
    "eradication": N_("Eradication"),
    "recovery": N_("Recovery"),
    "post_incident": N_("Post-incident"),
}
_FIELDS = {
    "title": N_("Title"), "description": N_("Description"), "severity": N_("Severity"),
    "tlp": N_("TLP"), "pap": N_("PAP"), "status": N_("Status"), "resolution": N_("Resolution"),
    "owner": N_("Owner"), "team": N_("Team"), "sectors": N_("Sectors"),
    "techniques": N_("ATT&CK techniques"), "asset_ids": N_("Assets"),
    "first_event_at": N_("First event"), "alerts": N_("Alerts added"),
    "playbook": N_("Playbook"), "task": N_("Task"), "task_approval": N_("Approval"),
    "clock": N_("Legal clock"), "start_event": N_("Start event"),
    "assessment": N_("Assessment"), "hold": N_("Investigation hold"), "notice": N_("Notice"),
    "register": N_("Register entry"), "observable": N_("Observable"),
}  # fmt: skip
_MESSAGES = {
    "updated": N_("The case was updated."),
    "applied": N_("The playbook's tasks were added."),
    "task": N_("The task was updated."),
    "opened": N_("The case is open; its alerts are escalated."),
    "choose": N_("Choose a valid value."),
}


def _message(page: Page, key: str) -> str:
    message = _MESSAGES[key]  # looked up first: a literal key would be extracted as a msgid
    return page.gettext(message)


def _shown(value: Any) -> str:
    """A history value as short text: mappings as key=value, lists comma-separated."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_shown(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value)


def _load(page: Page, case_id: int) -> CaseDetail:
    with page.runtime.session() as session:
        return incidents.get_case(session, case_id, scope=scope_of(page))


def _alerts(page: Page, ids: list[int]) -> list[AlertRead | int]:
    """The linked alerts; an id alone where the alert is outside the reader's sectors."""
    out: list[AlertRead | int] = []
    with page.runtime.session() as session:
        for alert_id in ids[:_ALERTS_SHOWN]:
            try:
                out.append(alerts.get_alert(session, alert_id, scope=scope_of(page)))
            except NotFound:
                out.append(alert_id)
    return out


def _playbooks(
    known: dict[str, Playbook], case: CaseDetail, found: list[AlertRead | int]
) -> tuple[list[Playbook], set[str]]:
    """All six, those suggested for the case's alerts first; and the suggested ids."""
    linked = [a for a in found if not isinstance(a, int)]
    tags = {f"attack.{t}" for a in linked for t in a.tactics}
    techniques = {*case.techniques, *(t for a in linked for t in a.techniques)}
    ranked = suggest(tags, techniques, [s.value for s in case.sectors], playbooks=known)
    first = {p.id for p in ranked}
    return [*ranked, *(known[k] for k in sorted(known) if k not in first)], first


def _sections(page: Page, case: CaseDetail) -> dict[str, Any]:
    """The other sections' context: clocks, notices, evidence, observables and timeline (their
    modules import `render_case`, so they are imported here, not at the top)."""
    from civicshield.web.routes import (
        incidents_clocks,
        incidents_evidence,
        incidents_notices,
        incidents_timeline,
    )

    out: dict[str, Any] = {}
    for module in (incidents_clocks, incidents_notices, incidents_evidence, incidents_timeline):
        out.update(module.section(page, case))
    return out


def render_case(
    page: Page,
    case_id: int,
    *,
    status: int = 200,
    section: str = "",
    error: str = "",
    form: dict[str, str] | None = None,
) -> Response:
    """The case page with one section's refusal shown next to its form (`section_errors`),
    and what was posted kept in `section_form` (for the sections' own routes)."""
    return _render(
        page, _load(page, case_id), status=status,
        section_errors={section: error} if error else {}, section_form=form or {},
    )  # fmt: skip


def _render(page: Page, case: CaseDetail, *, status: int = 200, **errors: Any) -> Response:
    found = _alerts(page, case.alert_ids)
    lang = page.language.split("-")[0]
    known = load_playbooks()  # parses the six YAML files: once per page
    playbooks, suggested = _playbooks(known, case, found)
    by_phase: dict[str, list[Any]] = {}
    for task in case.tasks:
        by_phase.setdefault(task.phase, []).append(task)
    phases = [(p, by_phase[p]) for p in PHASES if p in by_phase]
    phases += [(p, tasks) for p, tasks in by_phase.items() if p not in PHASES]
    done = page.query("done")
    functions = {}
    if case.playbook_id in known:
        functions = {k: v.get(lang) for k, v in known[case.playbook_id].functions.items()}
    return page.render(
        "incidents/detail.html",
        status=status,
        c=case,
        alerts_found=found,
        playbooks=playbooks,
        suggested=suggested,
        lang=lang,
        phases=phases,
        PHASE_LABELS=_PHASES,
        FIELD_LABELS=_FIELDS,
        ROLE={r.value: r for r in Role},
        functions=functions,
        shown=_shown,
        message=_message(page, done) if done in _MESSAGES else None,
        errors=errors.get("errors", {}),
        task_error=errors.get("task_error"),
        playbook_error=errors.get("playbook_error"),
        form=errors.get("form") or {},
        section_errors=errors.get("section_errors") or {},
        section_form=errors.get("section_form") or {},
        **_sections(page, case),
        **case_values(page),
    )


@router.get("/incidents/{case_id:int}")
def case_detail(case_id: int, page: ReadPage) -> Response:
    return _render(page, _load(page, case_id))


@router.post("/incidents/{case_id:int}")
def case_update(case_id: int, page: ManagePage) -> Response:
    case = _load(page, case_id)  # 404 first: outside the scope it does not exist
    posted = {
        name: page.field(name) for name in ("status", "severity", "owner", "resolution", "reason")
    }
    wanted = {k: v for k, v in posted.items() if k in ("status", "severity") and v}
    wanted.update({k: posted[k] for k in ("owner", "resolution", "reason")})
    try:
        data = CaseUpdate.model_validate(wanted)
        with page.runtime.session() as session:
            incidents.update_case(
                session, case_id, data, actor=page.actor, clock=page.runtime.clock,
                scope=scope_of(page),
            )  # fmt: skip
    except ValidationError as exc:
        errors = {str(e["loc"][0]): _message(page, "choose") for e in exc.errors()}
    except Invalid as exc:
        errors = domain_errors(page, exc)
    except Conflict as exc:
        errors = {"form": exc.detail}
    else:
        return page.redirect(f"/incidents/{case_id}?done=updated#summary")
    return _render(page, case, status=422, errors=errors, form=posted)


@router.post("/incidents/{case_id:int}/playbook")
def case_playbook(case_id: int, page: ManagePage) -> Response:
    case = _load(page, case_id)
    try:
        with page.runtime.session() as session:
            incidents.apply_playbook(
                session, case_id, page.field("playbook_id"), actor=page.actor,
                clock=page.runtime.clock, lang=page.language, scope=scope_of(page),
            )  # fmt: skip
    except Invalid as exc:
        error = "; ".join(domain_errors(page, exc).values())
    except Conflict as exc:
        error = exc.detail
    else:
        return page.redirect(f"/incidents/{case_id}?done=applied#tasks")
    return _render(page, case, status=409, playbook_error=error)


@router.post("/incidents/{case_id:int}/tasks/{task_id:int}")
def case_task(case_id: int, task_id: int, page: ManagePage) -> Response:
    """`action`: approve, done, skipped or open."""
    case = _load(page, case_id)
    action = page.field("action")
    try:
        with page.runtime.session() as session:
            if action == "approve":
                incidents.approve_task(
                    session, case_id, task_id, actor=page.actor, clock=page.runtime.clock,
                    scope=scope_of(page),
                )  # fmt: skip
            else:
                incidents.set_task_status(
                    session, case_id, task_id, action, actor=page.actor,
                    clock=page.runtime.clock, scope=scope_of(page),
                )  # fmt: skip
    except Invalid as exc:
        error = "; ".join(domain_errors(page, exc).values())
    except Conflict as exc:
        error = exc.detail
    else:
        return page.redirect(f"/incidents/{case_id}?done=task#task-{task_id}")
    return _render(page, case, status=409, task_error=error)
