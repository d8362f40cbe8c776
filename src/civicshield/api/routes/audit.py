"""`/api/v1/audit`: read and verify the hash-chained audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from civicshield import audit
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, SessionDep, require
from civicshield.api.openapi import resource_router
from civicshield.api.schemas import Page

__all__ = ["router"]

router = resource_router("/audit", "audit")


@router.get(
    "", dependencies=[Depends(require(Permission.AUDIT_READ))], summary="Read the audit log"
)
def list_audit(
    session: SessionDep,
    pagination: PaginationDep,
    actor: Annotated[
        str | None, Query(description="Exact actor label, e.g. `ana` or `token:ana#3`.")
    ] = None,
    action: Annotated[
        str | None, Query(description="Action prefix, e.g. `user.` or `token.create`.")
    ] = None,
    entity_type: Annotated[str | None, Query(description="e.g. `user`, `api_token`.")] = None,
    entity_id: Annotated[str | None, Query()] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="Entries at or after (ISO 8601 with offset).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Entries before (ISO 8601 with offset).")
    ] = None,
) -> Page[audit.AuditEntryRead]:
    """Newest first."""
    result = audit.list_entries(
        session,
        limit=pagination.limit,
        offset=pagination.offset,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
    )
    return pagination.page(result.items, result.total)


@router.post(
    "/verify",
    dependencies=[Depends(require(Permission.AUDIT_VERIFY))],
    summary="Verify the whole hash chain now",
)
def verify_audit(session: SessionDep) -> audit.ChainReport:
    """`ok: false` names the first broken entry and why (edited, deleted, reordered). A POST
    because it reads the whole log; it changes nothing and may be repeated."""
    return audit.verify_chain(session)
