"""The clocks section of the case page (start clocks, start events, assessments, holds,
reminders) and `/incidents/clocks`: every running clock of the open cases in the reader's scope,
overdue first then soonest, with the reminders not yet acknowledged. `due_panel` is the
dashboard's "clocks due soon" partial.

A refusal (an ambiguous local time, a hold on an obligation that cannot wait, a missing
reasoning) is shown next to the section's form with what was posted kept."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield.accounts import Permission
from civicshield.core.errors import Conflict, Invalid
from civicshield.core.i18n import N_
from civicshield.incidents import CaseDetail
from civicshield.incidents.clocks import REQUIREMENTS, START_EVENTS
from civicshield.incidents.legal import (
    AssessmentCreate,
    HoldCreate,
    LegalConfig,
    StartEventCreate,
    acknowledge_reminder,
    case_clocks,
    clocks_due,
    lift_hold,
    list_assessments,
    list_holds,
    list_reminders,
    list_start_events,
    place_hold,
    record_assessment,
    record_start_event,
    start_clock,
    suggest_clocks,
    withdraw_clock,
)
from civicshield.web.deps import require
from civicshield.web.page import Page
from civicshield.web.routes.incidents import ManagePage, ReadPage, case_values, scope_of

__all__ = ["due_panel", "router", "section"]

router = APIRouter()
NotifyPage = Annotated[Page, Depends(require(Permission.INCIDENTS_NOTIFY))]
_ZONES = ("UTC", "America/Toronto", "America/Montreal", "America/Mexico_City",
          "America/Tijuana", "America/New_York", "Europe/Paris", "Europe/Brussels")  # fmt: skip
_CHECK = N_("Check the form: a field is missing or not valid.")
PANEL_SIZE = 5


def _config(page: Page) -> LegalConfig:
    return LegalConfig.from_settings(page.runtime.settings)


def section(page: Page, case: CaseDetail) -> dict[str, Any]:
    """What the case page's clocks section shows (keys prefixed `clocks`)."""
    config = _config(page)
    scope = scope_of(page)
    with page.runtime.session() as session:
        views = case_clocks(
            session, case.id, now=page.runtime.clock.now(), settings_or_config=config, scope=scope
        )
        return {
            "clocks": views,
            "clocks_suggested": suggest_clocks(session, case.id, config=config, scope=scope),
            "clocks_events": list_start_events(session, case.id, scope=scope),
            "clocks_assessments": list_assessments(session, case.id, scope=scope),
            "clocks_holds": list_holds(session, case.id, scope=scope),
            "clocks_reminders": list_reminders(session, case_id=case.id, scope=scope),
            "clocks_obligations": [
                (ob.id, ob.title.get(page.language), ob.suspendable)
                for p in config.profiles.values()
                for ob in p.obligations
            ],
            "clocks_kinds": START_EVENTS,
            "clocks_requirements": REQUIREMENTS,
            "clocks_zone": config.zone,
            "clocks_zones": [config.zone, *(z for z in _ZONES if z != config.zone)],
            "clocks_can_notify": page.can(Permission.INCIDENTS_NOTIFY),
        }


def due_panel(page: Page) -> dict[str, Any]:
    """The dashboard's panel: the clocks due soonest (overdue first)."""
    with page.runtime.session() as session:
        due = clocks_due(
            session, now=page.runtime.clock.now(), within=None,
            settings_or_config=_config(page), scope=scope_of(page),
        )  # fmt: skip
    return {"clocks_due": due[:PANEL_SIZE], "clocks_due_total": len(due)}


@router.get("/incidents/clocks")
def clocks_page(page: ReadPage) -> Response:
    with page.runtime.session() as session:
        due = clocks_due(
            session, now=page.runtime.clock.now(), within=None,
            settings_or_config=_config(page), scope=scope_of(page),
        )  # fmt: skip
        waiting = list_reminders(session, scope=scope_of(page), unacknowledged=True)
    return page.render("incidents/clocks.html", due=due, reminders=waiting, **case_values(page))


def _refused(page: Page, case_id: int, exc: Exception, posted: dict[str, str]) -> Response:
    from civicshield.web.routes.incidents_detail import render_case

    if isinstance(exc, ValidationError):
        error, status = page.gettext(_CHECK), 422
    elif isinstance(exc, Invalid):
        error, status = exc.detail, 422
    else:
        error, status = getattr(exc, "detail", str(exc)), 409
    return render_case(page, case_id, status=status, section="clocks", error=error, form=posted)


def _done(page: Page, case_id: int) -> Response:
    return page.redirect(f"/incidents/{case_id}#clocks")


@router.post("/incidents/{case_id:int}/clocks")
def clocks_start(case_id: int, page: ManagePage) -> Response:
    """One obligation (`obligation_id`), or the playbook's suggested ones ticked (`suggested`)."""
    wanted = page.fields("suggested") or [page.field("obligation_id")]
    try:
        with page.runtime.session() as session:
            for ob in wanted:
                start_clock(
                    session, case_id, ob, config=_config(page), actor=page.actor,
                    clock=page.runtime.clock, scope=scope_of(page),
                )  # fmt: skip
    except (Invalid, Conflict) as exc:
        return _refused(page, case_id, exc, {"obligation_id": ",".join(wanted)})
    return _done(page, case_id)


@router.post("/incidents/{case_id:int}/clocks/{obligation_id}/withdraw")
def clocks_withdraw(case_id: int, obligation_id: str, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            withdraw_clock(
                session, case_id, obligation_id, page.field("reason"), actor=page.actor,
                clock=page.runtime.clock, scope=scope_of(page),
            )  # fmt: skip
    except (Invalid, Conflict) as exc:
        return _refused(page, case_id, exc, {"reason": page.field("reason")})
    return _done(page, case_id)


@router.post("/incidents/{case_id:int}/start-events")
def clocks_event(case_id: int, page: ManagePage) -> Response:
    names = ("kind", "at", "zone", "obligation_id", "note", "corrects")
    posted = {n: page.field(n) for n in names}
    try:
        data = StartEventCreate.model_validate({k: v for k, v in posted.items() if v})
        with page.runtime.session() as session:
            record_start_event(
                session, case_id, data, config=_config(page), actor=page.actor,
                clock=page.runtime.clock, scope=scope_of(page),
            )  # fmt: skip
    except (ValidationError, Invalid) as exc:
        return _refused(page, case_id, exc, posted)
    return _done(page, case_id)


@router.post("/incidents/{case_id:int}/assessments")
def clocks_assess(case_id: int, page: NotifyPage) -> Response:
    names = ("requirement", "met", "reasoning", "consulted")
    posted = {n: page.field(n) for n in names}
    factors = {k: page.field(f"factor_{k}") for k in ("sensitivity", "consequences", "likelihood")}
    try:
        data = AssessmentCreate.model_validate(
            {**posted, "met": posted["met"] == "yes" if posted["met"] else None, "factors": factors}
        )
        with page.runtime.session() as session:
            record_assessment(
                session, case_id, data, actor=page.actor, clock=page.runtime.clock,
                scope=scope_of(page),
            )  # fmt: skip
    except (ValidationError, Invalid) as exc:
        return _refused(page, case_id, exc, posted)
    return _done(page, case_id)


@router.post("/incidents/{case_id:int}/holds")
def clocks_hold(case_id: int, page: ManagePage) -> Response:
    posted = {n: page.field(n) for n in ("obligation_id", "reason", "authority", "review_on")}
    try:
        data = HoldCreate.model_validate(
            {k: v for k, v in posted.items() if v or k != "obligation_id"}
        )
        with page.runtime.session() as session:
            place_hold(
                session, case_id, data, config=_config(page), actor=page.actor,
                clock=page.runtime.clock, scope=scope_of(page),
            )  # fmt: skip
    except (ValidationError, Invalid) as exc:
        return _refused(page, case_id, exc, posted)
    return _done(page, case_id)


@router.post("/incidents/{case_id:int}/holds/{hold_id:int}/lift")
def clocks_lift(case_id: int, hold_id: int, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            lift_hold(
                session, case_id, hold_id, actor=page.actor, clock=page.runtime.clock,
                scope=scope_of(page),
            )  # fmt: skip
    except Conflict as exc:
        return _refused(page, case_id, exc, {})
    return _done(page, case_id)


@router.post("/incidents/reminders/{reminder_id:int}/acknowledge")
def clocks_ack(reminder_id: int, page: ManagePage) -> Response:
    """Back to the case, or to `/incidents/clocks` when sent from there (`back=list`)."""
    try:
        with page.runtime.session() as session:
            done = acknowledge_reminder(
                session, reminder_id, actor=page.actor, clock=page.runtime.clock,
                scope=scope_of(page),
            )  # fmt: skip
    except Conflict:  # acknowledged meanwhile by someone else
        return page.redirect("/incidents/clocks")
    if page.field("back") == "list":
        return page.redirect("/incidents/clocks")
    return page.redirect(f"/incidents/{done.case_id}#clocks")
