"""`/api/v1/vulns`: findings (vulns:read to see, vulns:manage to triage and import), CVE data,
matching and feed sync, the prioritisation policy (vulns:policy to change) and sector risk.

Sector operators see and triage only the findings of their sectors' assets (others answer 404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, Field

from civicshield import assets, audit, jobs, vulns
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.api.uploads import BINARY_SCHEMA, file_body
from civicshield.core import Sector
from civicshield.jobs import JobRead
from civicshield.vulns import (
    CveRead,
    Decision,
    FindingDetail,
    FindingRead,
    FindingStatus,
    MatchSummary,
    PolicyRead,
    RiskSummary,
    RiskTrend,
    ScanImportSummary,
    StatusChange,
)

__all__ = ["router"]

router = resource_router("/vulns", "vulns")
READ = [Depends(require(Permission.VULNS_READ))]
MANAGE = [Depends(require(Permission.VULNS_MANAGE))]
POLICY = [Depends(require(Permission.VULNS_POLICY))]


@router.get("/findings", dependencies=READ, summary="List findings, most urgent first")
def list_findings(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    pagination: PaginationDep,
    status: Annotated[list[FindingStatus] | None, Query(description="Any of these.")] = None,
    open_only: Annotated[bool, Query(description="Only findings that need work.")] = False,
    decision: Annotated[list[Decision] | None, Query(description="SSVC decision.")] = None,
    sector: Annotated[list[Sector] | None, Query(description="Asset sector.")] = None,
    severity: Annotated[list[str] | None, Query(description="CVSS severity.")] = None,
    asset_id: Annotated[int | None, Query(description="Only this asset.")] = None,
    cve_id: Annotated[str | None, Query(max_length=40, description="Only this CVE.")] = None,
    kev: Annotated[bool | None, Query(description="In CISA KEV (or not).")] = None,
    overdue: Annotated[bool | None, Query(description="Past the due date (or not).")] = None,
    q: Annotated[str | None, Query(max_length=100, description="CVE, asset or component.")] = None,
) -> Page[FindingRead]:
    """Open findings first, then by priority (decision, KEV, EPSS, CVSS, asset criticality)
    and due date. Sector operators get only their sectors."""
    filters = vulns.FindingFilter(
        status=status or [],
        open_only=open_only,
        decision=decision or [],
        sector=sector or [],
        severity=severity or [],
        asset_id=asset_id,
        cve_id=cve_id,
        kev=kev,
        overdue=overdue,
        q=q,
    )
    result = vulns.list_findings(
        session,
        filters,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    return pagination.page(result.items, result.total)


@router.get(
    "/findings/{finding_id}", dependencies=READ, responses=problems(404), summary="Get a finding"
)
def get_finding(
    finding_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> FindingDetail:
    """With the decision's explanation, the evidence of each source, the CVE data and the
    history of changes (newest first)."""
    return vulns.get_finding(
        session, finding_id, clock=runtime.clock, scope=assets.scope_of(principal)
    )


@router.patch(
    "/findings/{finding_id}",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Change a finding's status",
)
def change_status(
    finding_id: int,
    change: StatusChange,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> FindingDetail:
    """`accepted` needs `accepted_until` (after today) and a reason; `false_positive` a reason.
    The approver of an accepted risk defaults to the caller. Audited; kept in the history."""
    return vulns.change_status(
        session,
        finding_id,
        change,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )


class BulkStatusChange(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=1000, description="Finding ids.")
    change: StatusChange


class BulkResult(BaseModel):
    changed: int


@router.post(
    "/findings/status",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Change the status of many findings",
)
def change_statuses(
    body: BulkStatusChange, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> BulkResult:
    """All or nothing: one unknown id (or one outside your sectors) refuses the whole change."""
    changed = vulns.change_statuses(
        session,
        body.ids,
        body.change,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )
    return BulkResult(changed=changed)


@router.get("/cves/{cve_id}", dependencies=READ, responses=problems(404), summary="Get a CVE")
def get_cve(cve_id: str, session: SessionDep) -> CveRead:
    """What the synced feeds say: CVSS metrics with their source, SSVC, KEV, EPSS."""
    return vulns.get_cve(session, cve_id)


@router.post("/match", dependencies=MANAGE, summary="Match the inventory against the CVEs now")
def match(session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep) -> MatchSummary:
    """Creates, re-opens and fixes the matcher's findings for every active asset you may see."""
    summary = vulns.match_inventory(
        session, actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal)
    )
    audit.record(
        session,
        actor=principal.actor,
        action="vulns.match",
        entity_type="inventory",
        entity_id="all" if assets.scope_of(principal) is None else "scoped",
        clock=runtime.clock,
        summary=f"matched {summary.assets} assets: {summary.created} new findings",
        changes=summary.model_dump(),
    )
    return summary


@router.post(
    "/sync", dependencies=MANAGE, status_code=202, summary="Sync the feeds in the background"
)
def sync(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> JobRead:
    """Queues the `vulns.sync` job (feeds, store, match, re-assess); 202 + `Location`."""
    job = jobs.enqueue(
        session,
        vulns.SYNC_JOB,
        registry=runtime.jobs,
        clock=runtime.clock,
        requested_by=principal.actor.label,
    )
    audit.record(
        session,
        actor=principal.actor,
        action="job.enqueue",
        entity_type="job",
        entity_id=job.id,
        clock=runtime.clock,
        summary=f"queued job {job.id} ({job.name})",
        changes={"args": []},
    )
    response.headers["Location"] = str(request.url_for("get_job", job_id=job.id))
    return job


@router.post(
    "/imports",
    dependencies=MANAGE,
    responses=problems(404, 413),
    summary="Import scanner results: Grype, Trivy, OpenVAS, Wazuh, Nmap vulners, CycloneDX VEX",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": BINARY_SCHEMA},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
def import_scan(
    body: Annotated[tuple[bytes, str | None], Depends(file_body)],
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    fmt: Annotated[
        str | None,
        Query(alias="format", max_length=40, description="Skip sniffing (see docs)."),
    ] = None,
    asset_id: Annotated[
        int | None, Query(description="The asset the results are about (images, SBOMs, VEX).")
    ] = None,
    filename: Annotated[str | None, Query(max_length=200, description="Name for messages.")] = None,
) -> ScanImportSummary:
    """Results merge into findings per (asset, CVE, component); a host or image not in the
    inventory is listed in `problems` with its place, the rest imports. Importing the same file
    again changes nothing. Corrupt input is refused (422) with its line and column."""
    data, upload_name = body
    report = vulns.parse_scan(data, source=upload_name or filename or "upload", fmt=fmt)
    return vulns.import_scan(
        session,
        report,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
        target_asset_id=asset_id,
    )


@router.get("/policy", dependencies=READ, summary="The prioritisation policy in force")
def get_policy(session: SessionDep, runtime: RuntimeDep) -> PolicyRead:
    return vulns.list_policies(session, clock=runtime.clock)[0]


@router.get("/policy/versions", dependencies=READ, summary="Every version of the policy")
def policy_versions(session: SessionDep, runtime: RuntimeDep) -> list[PolicyRead]:
    return vulns.list_policies(session, clock=runtime.clock)


@router.get("/policy/schema", dependencies=READ, summary="The policy's JSON Schema")
def policy_schema() -> dict[str, Any]:
    return vulns.Policy.model_json_schema()


class PolicySave(BaseModel):
    data: dict[str, Any] = Field(description="The whole policy (see `/vulns/policy/schema`).")
    note: str = Field(default="", max_length=2000, description="Why it changed.")


class PolicySaved(BaseModel):
    policy: PolicyRead
    decisions_changed: int


@router.put(
    "/policy", dependencies=POLICY, responses=problems(422), summary="Save a new policy version"
)
def save_policy(
    body: PolicySave, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> PolicySaved:
    """Adds the next version and re-assesses every finding under it (422 names the field)."""
    saved = vulns.save_policy(
        session, body.data, note=body.note, actor=principal.actor, clock=runtime.clock
    )
    changed = vulns.reassess(session, clock=runtime.clock, actor=principal.actor)
    return PolicySaved(policy=saved, decisions_changed=changed)


def _tz(runtime: Any) -> str:
    return str(runtime.settings.default_timezone)


@router.get("/risk", dependencies=READ, summary="Risk per sector, zone and for the city")
def risk(session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep) -> RiskSummary:
    """Formula and bands: docs/risk.md."""
    return vulns.sector_risk(
        session, scope=assets.scope_of(principal), clock=runtime.clock, tz=_tz(runtime)
    )


@router.get("/risk/trend", dependencies=READ, summary="Daily risk scores over time")
def risk_trend(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=3660, description="How many days back.")] = 90,
) -> RiskTrend:
    return vulns.risk_trend(
        session,
        scope=assets.scope_of(principal),
        days=days,
        clock=runtime.clock,
        tz=_tz(runtime),
    )


@router.post(
    "/risk/snapshots", dependencies=MANAGE, summary="Store today's risk scores now (trend)"
)
def risk_snapshot(session: SessionDep, runtime: RuntimeDep) -> RiskSummary:
    return vulns.take_snapshot(session, clock=runtime.clock, tz=_tz(runtime))


@router.get(
    "/risk/report",
    dependencies=READ,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}}, **problems(503)},
    summary="The printable risk report (PDF or HTML; en, es, fr)",
    response_class=Response,
)
def risk_report(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    lang: Annotated[str, Query(pattern="^(en|es|fr)$", description="en, es or fr.")] = "en",
    fmt: Annotated[str, Query(alias="format", pattern="^(pdf|html)$")] = "pdf",
) -> Response:
    """For city leadership: summary, sectors, heat map, top findings, overdue, accepted risks,
    method and the NIST CSF 2.0 subcategories it supports. 503 when PDF rendering libraries
    are missing on the server."""
    scope = assets.scope_of(principal)
    tz = _tz(runtime)
    summary = vulns.sector_risk(session, scope=scope, clock=runtime.clock, tz=tz)
    trend = vulns.risk_trend(session, scope=scope, days=90, clock=runtime.clock, tz=tz)
    args: dict[str, Any] = {
        "language": lang,
        "city_name": runtime.settings.city_name,
        "generated_at": runtime.clock.now(),
        "tz": tz,
    }
    day = summary.day.isoformat()
    if fmt == "html":
        html = vulns.render_risk_report_html(summary, trend, **args)
        return Response(html, media_type="text/html; charset=utf-8")
    pdf = vulns.render_risk_report_pdf(summary, trend, **args)
    name = f"risk-report-{day}-{lang}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
