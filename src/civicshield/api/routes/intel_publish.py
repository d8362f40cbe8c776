"""`/api/v1/intel/publications` and `/api/v1/intel/policy`: the TLP-safe publish queue.
intel:read sees the queue, its previews and the effective policy; intel:manage prepares and
publishes; intel:approve approves (or rejects) the first publication to a new peer. Objects
the sharing policy refuses are listed with the reason in the preview, never silently dropped."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.intel import sharing
from civicshield.intel.sharing import PublicationRead, PublicationTarget

__all__ = ["router"]

router = resource_router("/intel", "intel")
READ = [Depends(require(Permission.INTEL_READ))]
MANAGE = [Depends(require(Permission.INTEL_MANAGE))]
APPROVE = [Depends(require(Permission.INTEL_APPROVE))]


class PrepareBody(PublicationTarget):
    """The objects (STIX ids; their current versions are used) and exactly one target."""

    model_config = ConfigDict(extra="forbid")

    object_ids: list[str] = Field(min_length=1, max_length=1000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


@router.get("/publications", dependencies=READ, summary="List publications")
def list_publications(
    session: SessionDep,
    pagination: PaginationDep,
    status: Annotated[
        str | None,
        Query(max_length=24, description=f"Only this status ({', '.join(sharing.STATUSES)})."),
    ] = None,
) -> Page[PublicationRead]:
    """The publish queue, newest first (without the prepared bundles; see the detail)."""
    items, total = sharing.list_publications(
        session, status=status, limit=pagination.limit, offset=pagination.offset
    )
    return pagination.page(items, total)


@router.post(
    "/publications",
    dependencies=MANAGE,
    status_code=201,
    responses=problems(404, 409),
    summary="Prepare a publication",
)
def prepare_publication(
    session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, body: PrepareBody
) -> PublicationRead:
    """Run the sharing policy and queue the preview; nothing leaves until it is published.
    A publication whose every object is refused comes back with status `refused`."""
    target = PublicationTarget(
        collection_uuid=body.collection_uuid, subscription_id=body.subscription_id
    )
    return sharing.prepare(
        session, body.object_ids, target, actor=principal.actor, settings=runtime.settings,
        now=runtime.clock.now(),
    )  # fmt: skip


@router.get(
    "/publications/{publication_id}",
    dependencies=READ,
    responses=problems(404),
    summary="Show a publication with its preview",
)
def show_publication(session: SessionDep, publication_id: int) -> PublicationRead:
    """The prepared bundle, every change the policy made and every refused object."""
    return sharing.get_publication(session, publication_id)


@router.post(
    "/publications/{publication_id}/approve",
    dependencies=APPROVE,
    responses=problems(404, 409),
    summary="Approve a publication to a new peer",
)
def approve_publication(
    session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, publication_id: int
) -> PublicationRead:
    """Approves the peer as well; the approver must not be who prepared it (409)."""
    return sharing.approve(session, publication_id, actor=principal.actor, now=runtime.clock.now())


@router.post(
    "/publications/{publication_id}/reject",
    dependencies=APPROVE,
    responses=problems(404, 409),
    summary="Reject a queued publication",
)
def reject_publication(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    publication_id: int,
    body: Annotated[RejectBody | None, Body()] = None,
) -> PublicationRead:
    return sharing.reject(
        session, publication_id, actor=principal.actor, now=runtime.clock.now(),
        reason=body.reason if body else "",
    )  # fmt: skip


@router.post(
    "/publications/{publication_id}/publish",
    dependencies=MANAGE,
    responses=problems(404, 409),
    summary="Publish a prepared publication",
)
def publish_publication(
    session: SessionDep, runtime: RuntimeDep, principal: PrincipalDep, publication_id: int
) -> PublicationRead:
    """Delivers the prepared bundle; a delivery error is recorded (status `failed`)."""
    return sharing.publish(
        session, publication_id, actor=principal.actor, settings=runtime.settings,
        now=runtime.clock.now(),
    )  # fmt: skip


@router.get("/policy", dependencies=READ, summary="Show the sharing policy in effect")
def show_sharing_policy(runtime: RuntimeDep) -> dict[str, Any]:
    """The shipped default with `<data_dir>/sharing.yaml` applied."""
    return sharing.load_policy(runtime.settings).as_dict()
