"""`/api/v1/assets`: the inventory (assets:read to see, assets:manage to change and import).

Sector operators see and change only their sectors' assets: another sector's asset answers
404, creating or moving one into it 403. Every change is audited by the assets service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from civicshield import assets, vulns
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.api.uploads import BINARY_SCHEMA, file_body
from civicshield.assets import (
    AssetDetail,
    AssetKind,
    AssetRead,
    ImportPreview,
    Lifecycle,
    SoftwareRead,
)
from civicshield.core import Sector

__all__ = ["router"]

router = resource_router("/assets", "assets")
READ = [Depends(require(Permission.ASSETS_READ))]
MANAGE = [Depends(require(Permission.ASSETS_MANAGE))]


@router.get("", dependencies=READ, summary="List assets")
def list_assets(
    session: SessionDep,
    principal: PrincipalDep,
    pagination: PaginationDep,
    sector: Annotated[Sector | None, Query(description="Only this sector.")] = None,
    zone: Annotated[str | None, Query(max_length=100, description="Only this zone.")] = None,
    kind: Annotated[AssetKind | None, Query(description="Only IT, IoT or OT.")] = None,
    min_criticality: Annotated[
        int | None, Query(ge=1, le=5, description="Criticality at least this (1-5).")
    ] = None,
    internet_exposed: Annotated[
        bool | None, Query(description="Only assets reachable (or not) from the internet.")
    ] = None,
    lifecycle: Annotated[Lifecycle | None, Query(description="Active or retired.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Part of the name, vendor, product, serial, a host name, IP or MAC.",
        ),
    ] = None,
) -> Page[AssetRead]:
    """Sorted by sector, then name. Sector operators get only their sectors."""
    filters = assets.AssetFilter(
        sector=sector,
        zone=zone,
        kind=kind,
        min_criticality=min_criticality,
        internet_exposed=internet_exposed,
        lifecycle=lifecycle,
        q=q,
    )
    result = assets.list_assets(
        session,
        filters,
        scope=assets.scope_of(principal),
        limit=pagination.limit,
        offset=pagination.offset,
    )
    return pagination.page(result.items, result.total)


@router.post(
    "", dependencies=MANAGE, status_code=201, responses=problems(), summary="Create an asset"
)
def create_asset(
    data: assets.AssetCreate,
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> AssetRead:
    """201 with `Location`. 403 when a sector operator names a sector not theirs. Creating
    does not merge: use the import to update assets by MAC, host name, IP or serial."""
    asset = assets.create_asset(
        session,
        data,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )
    response.headers["Location"] = str(request.url_for("get_asset", asset_id=asset.id))
    return asset


@router.post(
    "/import",
    dependencies=MANAGE,
    responses=problems(413),
    summary="Import assets from a file: CSV, XLSX, Nmap XML, CycloneDX, SPDX (preview first)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
                "application/xml": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": BINARY_SCHEMA
                },
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
def import_assets(
    body: Annotated[tuple[bytes, str | None], Depends(file_body)],
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    dry_run: Annotated[
        bool, Query(description="true: only say what would change; false: apply it.")
    ] = True,
    fmt: Annotated[
        str | None,
        Query(
            alias="format",
            pattern="^(csv|xlsx|nmap|cyclonedx|spdx)$",
            description="Skip format sniffing: csv, xlsx, nmap, cyclonedx or spdx.",
        ),
    ] = None,
    filename: Annotated[
        str | None, Query(max_length=200, description="Name used in messages (raw bodies).")
    ] = None,
    sector: Annotated[Sector | None, Query(description="Sector of created assets.")] = None,
    zone: Annotated[str | None, Query(max_length=100, description="Zone of created.")] = None,
    kind: Annotated[AssetKind | None, Query(description="Kind of created assets.")] = None,
    criticality: Annotated[
        int | None, Query(ge=1, le=5, description="Criticality of created assets.")
    ] = None,
    asset_id: Annotated[
        int | None, Query(description="SBOMs: attach the components to this asset.")
    ] = None,
) -> ImportPreview:
    """Records become creates, updates or unchanged (matched by MAC, then host name, then IP
    in the same zone, then serial, then an SBOM's package URL), each with the software to add,
    change or remove. A bad record is listed with its place and skipped; only a file that
    cannot be read at all is refused (422). Sector, zone, kind and criticality apply to assets
    an Nmap or SBOM import creates. Formats and template: `docs/assets.md`."""
    data, upload_name = body
    scope = assets.scope_of(principal)
    preview = assets.preview_import(
        session,
        data=data,
        filename=upload_name or filename or "upload",
        scope=scope,
        fmt=fmt,
        defaults=assets.ImportDefaults(
            sector=sector, zone=zone, kind=kind, criticality=criticality
        ),
        target_asset_id=asset_id,
    )
    if dry_run:
        return preview
    result = assets.apply(session, preview, actor=principal.actor, clock=runtime.clock, scope=scope)
    # New and changed assets get their findings now, not at the next daily match.
    vulns.follow_inventory_import(
        session,
        asset_ids=[
            r.asset_id for r in result.rows if r.action in ("create", "update") and r.asset_id
        ],
        fmt=result.format,
        data=data,
        source=upload_name or filename or "upload",
        actor=principal.actor,
        clock=runtime.clock,
        scope=scope,
    )
    return result


@router.get(
    "/{asset_id}/software",
    dependencies=READ,
    responses=problems(404),
    summary="List an asset's software",
)
def list_software(
    asset_id: int, principal: PrincipalDep, session: SessionDep
) -> list[SoftwareRead]:
    """Components on the asset (from SBOMs and scans), by kind then name."""
    return assets.list_software(session, asset_id, scope=assets.scope_of(principal))


@router.get(
    "/{asset_id}",
    dependencies=READ,
    responses=problems(404),
    summary="Get an asset and its history",
)
def get_asset(asset_id: int, principal: PrincipalDep, session: SessionDep) -> AssetDetail:
    return assets.get_asset_detail(session, asset_id, scope=assets.scope_of(principal))


@router.patch(
    "/{asset_id}", dependencies=MANAGE, responses=problems(404), summary="Change an asset"
)
def update_asset(
    asset_id: int,
    data: assets.AssetUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> AssetRead:
    """Only the fields sent change; each change is kept in the asset's history. Send
    `{"lifecycle": "retired"}` to retire it."""
    return assets.update_asset(
        session,
        asset_id,
        data,
        actor=principal.actor,
        clock=runtime.clock,
        scope=assets.scope_of(principal),
    )
