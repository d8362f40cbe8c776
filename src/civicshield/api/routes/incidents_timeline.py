"""`/api/v1/incidents/...`: observables and related cases, the timeline (JSON or CSV), the
incident report (HTML or PDF), response metrics and the recommendation blocks.

Observables are changed with incidents:manage; everything else is read with incidents:read.
A sector operator sees only cases in their sectors (others are 404, or left out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from pydantic import BaseModel

from civicshield import assets
from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.incidents.observables import (
    ObservableCreate,
    ObservableRead,
    RelatedCase,
    add_observable,
    from_alerts,
    list_observables,
    related_cases,
    remove_observable,
)
from civicshield.incidents.reporting import (
    TIMELINE_KINDS,
    Metrics,
    build_timeline,
    compute_metrics,
    legal_markers,
    load_recommendations,
    render_case_report_html,
    render_case_report_pdf,
    timeline_csv,
    timeline_rows,
)

__all__ = ["router"]

router = resource_router("/incidents", "incidents")
READ = [Depends(require(Permission.INCIDENTS_READ))]
MANAGE = [Depends(require(Permission.INCIDENTS_MANAGE))]


class TimelineItem(BaseModel):
    at: datetime
    kind: str
    actor: str
    summary: str
    link: str
    marker: bool


class RecommendationItem(BaseModel):
    id: str
    version: int
    title: dict[str, str]
    text: dict[str, str]
    playbooks: list[str]
    tags: list[str]


@router.get("/metrics", dependencies=READ, summary="MTTD and MTTR by sector and type")
def incident_metrics(
    session: SessionDep,
    principal: PrincipalDep,
    since: Annotated[datetime | None, Query(description="From (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before (ISO 8601).")] = None,
) -> Metrics:
    """Times in seconds: MTTD over cases opened in the period, MTTR over cases closed in it;
    open cases by status and severity. Scoped to a sector operator's sectors."""
    return compute_metrics(session, since=since, until=until, scope=assets.scope_of(principal))


@router.get("/recommendations", dependencies=READ, summary="Recommendation blocks for reports")
def list_recommendations() -> list[RecommendationItem]:
    return [
        RecommendationItem(
            id=r.id,
            version=r.version,
            title=r.title,
            text=r.text,
            playbooks=list(r.playbooks),
            tags=list(r.tags),
        )
        for r in load_recommendations().values()
    ]


@router.get(
    "/{case_id}/observables", dependencies=READ, responses=problems(404),
    summary="A case's observables",
)  # fmt: skip
def list_case_observables(
    case_id: int, session: SessionDep, principal: PrincipalDep
) -> list[ObservableRead]:
    return list_observables(session, case_id, assets.scope_of(principal))


@router.post(
    "/{case_id}/observables", dependencies=MANAGE, status_code=201, responses=problems(404, 409),
    summary="Add an observable",
)  # fmt: skip
def add_case_observable(
    case_id: int, body: ObservableCreate, session: SessionDep, principal: PrincipalDep,
    runtime: RuntimeDep,
) -> ObservableRead:  # fmt: skip
    """The value is checked and normalised for its type (422 naming `type` or `value`); 409
    when the case already has it."""
    return add_observable(
        session, case_id, body, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post(
    "/{case_id}/observables/from-alerts", dependencies=MANAGE, responses=problems(404),
    summary="Take observables from the case's alerts",
)  # fmt: skip
def observables_from_alerts(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> list[ObservableRead]:
    """IPs, host and user names, URLs and hashes of the alerts' key fields and sample events;
    returns those that were new."""
    return from_alerts(
        session, case_id, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.delete(
    "/{case_id}/observables/{observable_id}", dependencies=MANAGE, status_code=204,
    responses=problems(404), summary="Remove an observable",
)  # fmt: skip
def remove_case_observable(
    case_id: int, observable_id: int, session: SessionDep, principal: PrincipalDep,
    runtime: RuntimeDep,
) -> Response:  # fmt: skip
    remove_observable(
        session, case_id, observable_id, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip
    return Response(status_code=204)


@router.get(
    "/{case_id}/related", dependencies=READ, responses=problems(404),
    summary="Cases sharing an observable",
)  # fmt: skip
def related_case_list(
    case_id: int, session: SessionDep, principal: PrincipalDep
) -> list[RelatedCase]:
    return related_cases(session, case_id, assets.scope_of(principal))


@router.get(
    "/{case_id}/timeline", dependencies=READ, responses=problems(404),
    response_model=list[TimelineItem], summary="The case timeline (JSON or CSV)",
)  # fmt: skip
def case_timeline(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep,
    fmt: Annotated[str, Query(alias="format", pattern="^(json|csv)$")] = "json",
    kind: Annotated[list[str] | None, Query(description=", ".join(TIMELINE_KINDS))] = None,
) -> list[TimelineItem] | Response:  # fmt: skip
    """Oldest first; the legal deadlines are entries with `marker` true. CSV cells that a
    spreadsheet would run as formulas start with an apostrophe."""
    scope = assets.scope_of(principal)
    markers = legal_markers(
        session, case_id, now=runtime.clock.now(), settings=runtime.settings, scope=scope
    )
    entries = build_timeline(session, case_id, scope=scope, markers=markers, kinds=kind or ())
    if fmt == "csv":
        return Response(
            timeline_csv(entries), media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="case-{case_id}-timeline.csv"'},
        )  # fmt: skip
    return [TimelineItem(**row) for row in timeline_rows(entries)]


@router.get(
    "/{case_id}/report", dependencies=READ, response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}, **problems(404, 503)},
    summary="The incident report (HTML or PDF; en, es, fr)",
)  # fmt: skip
def case_report(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep,
    fmt: Annotated[str, Query(alias="format", pattern="^(pdf|html)$")] = "html",
    lang: Annotated[str, Query(pattern="^(en|es|fr)$", description="en, es or fr.")] = "en",
    blocks: Annotated[list[str] | None, Query(description="Recommendation block ids.")] = None,
) -> Response:  # fmt: skip
    """With the chosen recommendation blocks (an unknown id is 422). 503 when the PDF
    libraries are missing on the server."""
    scope = assets.scope_of(principal)
    now = runtime.clock.now()
    settings = runtime.settings
    args: dict[str, Any] = {
        "scope": scope, "blocks": blocks or [], "language": lang, "generated_at": now,
        "tz": settings.default_timezone, "city_name": settings.city_name,
        "markers": legal_markers(session, case_id, now=now, settings=settings, scope=scope),
    }  # fmt: skip
    if fmt == "html":
        return Response(
            render_case_report_html(session, case_id, **args),
            media_type="text/html; charset=utf-8",
        )
    return Response(
        render_case_report_pdf(session, case_id, **args),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="case-{case_id}-report-{lang}.pdf"'},
    )
