"""The case page's observables and timeline sections (both rendered by `_timeline.html`):
observables with their related cases, add and remove, "take from the alerts"; the timeline with
the legal deadlines as markers, a kind filter and its CSV, JSON and printable exports.

The report and metrics pages live in `incidents_reports` (included here)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.incidents import CaseDetail
from civicshield.incidents.observables import (
    OBSERVABLE_TYPES,
    ObservableCreate,
    add_observable,
    from_alerts,
    list_observables,
    related_cases,
    remove_observable,
)
from civicshield.incidents.reporting import (
    TIMELINE_KINDS,
    TimelineEntry,
    build_timeline,
    legal_markers,
    timeline_csv,
    timeline_html,
    timeline_json,
)
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes import incidents_reports
from civicshield.web.routes.incidents import ManagePage, ReadPage, scope_of
from civicshield.web.routes.incidents_detail import render_case

__all__ = ["router", "section"]

router = APIRouter()
router.include_router(incidents_reports.router)

_KIND_LABELS = {
    "alert": N_("Alert"), "action": N_("Analyst action"), "task": N_("Task"),
    "start_event": N_("Start event"), "assessment": N_("Assessment"), "hold": N_("Hold"),
    "notice": N_("Notice sent"), "reminder": N_("Reminder"), "register": N_("Register"),
    "evidence": N_("Evidence"), "custody": N_("Custody"), "observable": N_("Observable"),
    "deadline": N_("Legal deadline"),
}  # fmt: skip
_ADDED = N_("The observable is in the case.")


def _entries(page: Page, case_id: int, kinds: list[str]) -> list[TimelineEntry]:
    scope = scope_of(page)
    with page.runtime.session() as session:
        markers = legal_markers(
            session, case_id, now=page.runtime.clock.now(), settings=page.runtime.settings,
            scope=scope, lang=page.language,
        )  # fmt: skip
        return build_timeline(session, case_id, scope=scope, markers=markers, kinds=kinds)


def _kinds(page: Page) -> list[str]:
    wanted = page.query("kind")
    return [wanted] if wanted in TIMELINE_KINDS else []


def section(page: Page, case: CaseDetail) -> dict[str, Any]:
    """Context of the observables (`observables_*`) and timeline (`timeline_*`) sections."""
    scope = scope_of(page)
    with page.runtime.session() as session:
        observables = list_observables(session, case.id, scope)
        related = related_cases(session, case.id, scope)
    by_value: dict[str, list[Any]] = {}
    for r in related:
        for shared in r.shared:
            by_value.setdefault(shared, []).append(r)
    kinds = _kinds(page)
    return {
        "observables_items": observables,
        "observables_related": related,
        "observables_by_value": by_value,
        "observables_types": OBSERVABLE_TYPES,
        "timeline_entries": _entries(page, case.id, kinds),
        "timeline_kind": kinds[0] if kinds else "",
        "timeline_kinds": TIMELINE_KINDS,
        "timeline_kind_labels": _KIND_LABELS,
    }


@router.post("/incidents/{case_id:int}/observables")
def observable_add(case_id: int, page: ManagePage) -> Response:
    posted = {name: page.field(name) for name in ("type", "value", "note")}
    posted["ioc"] = "on" if page.field("ioc") else ""
    try:
        data = ObservableCreate(
            type=posted["type"], value=posted["value"], note=posted["note"][:2000],
            ioc=bool(posted["ioc"]),
        )  # fmt: skip
        with page.runtime.session() as session:
            add_observable(
                session, case_id, data, actor=page.actor, clock=page.runtime.clock,
                scope=scope_of(page),
            )  # fmt: skip
    except ValidationError:
        error = page.gettext(N_("Choose a type and give a value of at most 2,000 characters."))
    except Invalid as exc:
        error = "; ".join(domain_errors(page, exc).values())
    except Conflict as exc:
        return render_case(page, case_id, status=409, section="observables", error=exc.detail,
                           form=posted)  # fmt: skip
    else:
        return page.redirect(f"/incidents/{case_id}#observables", flash=page.gettext(_ADDED))
    return render_case(page, case_id, status=422, section="observables", error=error, form=posted)


@router.post("/incidents/{case_id:int}/observables/from-alerts")
def observable_from_alerts(case_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        from_alerts(
            session, case_id, actor=page.actor, clock=page.runtime.clock, scope=scope_of(page)
        )
    return page.redirect(f"/incidents/{case_id}#observables")


@router.post("/incidents/{case_id:int}/observables/{observable_id:int}/delete")
def observable_remove(case_id: int, observable_id: int, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            remove_observable(
                session, case_id, observable_id, actor=page.actor, clock=page.runtime.clock,
                scope=scope_of(page),
            )  # fmt: skip
    except NotFound as exc:
        # render_case loads the case first: a case out of reach stays a 404
        return render_case(page, case_id, status=409, section="observables", error=exc.detail)
    return page.redirect(f"/incidents/{case_id}#observables")


@router.get("/incidents/{case_id:int}/timeline.csv")
def timeline_export_csv(case_id: int, page: ReadPage) -> Response:
    body = timeline_csv(_entries(page, case_id, _kinds(page)))
    name = f"case-{case_id}-timeline.csv"
    return Response(
        body, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.get("/incidents/{case_id:int}/timeline.json")
def timeline_export_json(case_id: int, page: ReadPage) -> Response:
    body = timeline_json(case_id, _entries(page, case_id, _kinds(page)))
    name = f"case-{case_id}-timeline.json"
    return Response(
        body, media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip


@router.get("/incidents/{case_id:int}/timeline/print")
def timeline_printable(case_id: int, page: ReadPage) -> Response:
    entries = _entries(page, case_id, _kinds(page))
    with page.runtime.session() as session:
        title = incidents_reports.case_title(session, case_id, scope_of(page))
    html = timeline_html(
        case_id, title, entries, language=incidents_reports.doc_language(page),
        tz=page.runtime.settings.default_timezone,
    )  # fmt: skip
    return Response(html, media_type="text/html; charset=utf-8")
