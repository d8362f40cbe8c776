"""`/api/v1/intel`: threat-intelligence indicators (intel:read to see and export, intel:manage
to import). Imports take a STIX 2.1 bundle or a MISP event as the JSON body and answer with
the import report (bad objects refused with reasons, the rest stored)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Query
from pydantic import BaseModel

from civicshield import intel
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.core import Tlp
from civicshield.intel import IndicatorDetail, IndicatorRead, SourceRead, WarninglistRead

__all__ = ["router"]

router = resource_router("/intel", "intel")
READ = [Depends(require(Permission.INTEL_READ))]
IndicatorState = Literal["active", "expired", "revoked", "suppressed", "not_matchable"]
MANAGE = [Depends(require(Permission.INTEL_MANAGE))]


class RefusalRead(BaseModel):
    path: str
    reason: str
    stix_id: str


class ImportReportRead(BaseModel):
    source: str
    read: int
    stored: int
    new: int
    new_versions: int
    unchanged: int
    skipped: int
    not_matchable: int
    refused: list[RefusalRead]
    notes: list[str]


@router.get("/indicators", dependencies=READ, summary="List indicators")
def list_indicators(
    session: SessionDep,
    runtime: RuntimeDep,
    pagination: PaginationDep,
    kind: Annotated[
        str | None, Query(max_length=16, description="Only this kind (ipv4, domain, url, …).")
    ] = None,
    active: Annotated[
        bool | None, Query(description="Only usable (true) or unusable (false) indicators.")
    ] = None,
    tlp: Annotated[Tlp | None, Query(description="Only this TLP.")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Part of the pattern, name or a value.")
    ] = None,
    state: Annotated[
        IndicatorState | None,
        Query(description="Only this state (the first reason an indicator is not used)."),
    ] = None,
    source: Annotated[
        int | None, Query(ge=1, description="Only indicators received from this source id.")
    ] = None,
) -> Page[IndicatorRead]:
    """The current version of each indicator, sorted by STIX id."""
    filters = intel.IndicatorFilter(
        kind=kind,
        active=active,
        state=state,
        tlp=tlp.value if tlp else None,
        source_id=source,
        q=q,
    )
    result = intel.list_indicators(
        session,
        filters,
        now=runtime.clock.now(),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    return pagination.page(result.items, result.total)


@router.get(
    "/indicators/{stix_id}",
    dependencies=READ,
    responses=problems(404),
    summary="Show an indicator",
)
def show_indicator(session: SessionDep, runtime: RuntimeDep, stix_id: str) -> IndicatorDetail:
    """The indicator, why it is or is not used (`state`), the properties of its current
    version, every stored version newest first (`versions`, `history`), the STIX sightings
    of it (`sightings`, `sighting_count`) and every receipt of it (`provenance`)."""
    return intel.get_indicator(session, stix_id, now=runtime.clock.now())


@router.post(
    "/import",
    dependencies=MANAGE,
    responses=problems(413),
    summary="Import a STIX bundle or a MISP event",
)
def import_body(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    body: Annotated[dict[str, Any], Body(description="A STIX 2.1 bundle or a MISP event.")],
    fmt: Annotated[
        Literal["stix", "misp-event"], Query(alias="format", description="What the body is.")
    ] = "stix",
    name: Annotated[str, Query(max_length=200, description="A name for the source.")] = "api",
) -> ImportReportRead:
    location = f"api:{name}"
    func = intel.import_stix if fmt == "stix" else intel.import_misp_event
    report = func(session, body, location=location, actor=principal.actor, clock=runtime.clock)
    return ImportReportRead.model_validate(report.as_dict())


@router.get("/export", dependencies=READ, summary="Export a STIX 2.1 bundle")
def export(
    session: SessionDep,
    max_tlp: Annotated[Tlp, Query(description="Most restrictive TLP included.")] = Tlp.AMBER,
    kind: Annotated[str | None, Query(max_length=16, description="Only this kind.")] = None,
    since: Annotated[
        datetime | None, Query(description="Only indicators modified at or after this.")
    ] = None,
) -> dict[str, Any]:
    """Shareable exports only: TLP:AMBER+STRICT and TLP:RED are refused (422)."""
    return intel.export_bundle(session, max_tlp=max_tlp, kind=kind, since=since)


@router.get("/sources", dependencies=READ, summary="List intelligence sources")
def sources(session: SessionDep) -> list[SourceRead]:
    return intel.list_sources(session)


@router.get("/warninglists", dependencies=READ, summary="List loaded warninglists")
def warninglists(session: SessionDep) -> list[WarninglistRead]:
    return intel.list_warninglists(session)
