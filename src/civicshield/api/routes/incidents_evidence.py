"""`/api/v1/incidents/{id}/evidence`: files kept for a case, encrypted at rest, with their
chain of custody. incidents:read lists them (names, sizes, hashes, integrity, custody);
incidents:manage uploads, downloads, verifies and transfers custody. Sector operators reach
only the cases touching their sectors (404 otherwise).

Uploads are multipart (`file`, `description`); the app's request body limit
(`CIVICSHIELD_MAX_BODY_BYTES`) applies before `CIVICSHIELD_EVIDENCE_MAX_BYTES` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Response, UploadFile
from fastapi.responses import StreamingResponse

from civicshield import assets
from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.incidents import evidence
from civicshield.incidents.evidence import (
    CustodyTransfer,
    EvidenceRead,
    VerifyResult,
    download_headers,
)

__all__ = ["router"]

router = resource_router("/incidents", "incidents")
READ = [Depends(require(Permission.INCIDENTS_READ))]
MANAGE = [Depends(require(Permission.INCIDENTS_MANAGE))]


@router.get(
    "/{case_id}/evidence", dependencies=READ, responses=problems(404), summary="A case's evidence"
)
def list_evidence(case_id: int, session: SessionDep, principal: PrincipalDep) -> list[EvidenceRead]:
    """Every piece with its SHA-256, last integrity check and chain of custody."""
    return evidence.list_evidence(session, case_id, scope=assets.scope_of(principal))


@router.post(
    "/{case_id}/evidence",
    dependencies=MANAGE,
    status_code=201,
    responses=problems(404, 413),
    summary="Upload a piece of evidence",
)
def add_evidence(
    case_id: int,
    file: Annotated[UploadFile, File(description="The file, kept encrypted.")],
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    description: Annotated[str, Form(max_length=5000)] = "",
) -> EvidenceRead:
    """Encrypted as it is stored, its SHA-256 computed on the way; 413 over the evidence limit."""
    try:
        piece = evidence.add_evidence(
            session, runtime.settings, case_id, file.file, filename=file.filename or "",
            description=description, media_type=file.content_type or "",
            actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal),
        )  # fmt: skip
    finally:
        file.file.close()
    response.headers["Location"] = f"/api/v1/incidents/{case_id}/evidence/{piece.id}"
    return piece


@router.get(
    "/{case_id}/evidence/{evidence_id}",
    dependencies=READ,
    responses=problems(404),
    summary="One piece of evidence",
)
def get_evidence(
    case_id: int, evidence_id: int, session: SessionDep, principal: PrincipalDep
) -> EvidenceRead:
    return evidence.get_evidence(session, case_id, evidence_id, scope=assets.scope_of(principal))


@router.get(
    "/{case_id}/evidence/{evidence_id}/content",
    dependencies=MANAGE,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string"}}}},
        **problems(404, 409),
    },
    response_class=StreamingResponse,
    summary="Download a piece of evidence",
)
def download_evidence(
    case_id: int,
    evidence_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> StreamingResponse:
    """Verified first: 409 (and the failed check recorded) when it was tampered with. Always
    an `application/octet-stream` attachment; the download is kept in the custody log."""
    opened = evidence.open_evidence(
        session, runtime.settings, case_id, evidence_id, actor=principal.actor,
        clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip
    return StreamingResponse(
        opened.chunks(),
        media_type="application/octet-stream",
        headers=download_headers(opened.filename, opened.size),
    )


@router.post(
    "/{case_id}/evidence/{evidence_id}/verify",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Check a piece of evidence for tampering",
)
def verify_evidence(
    case_id: int,
    evidence_id: int,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> VerifyResult:
    """Decrypts it whole and compares the SHA-256; `intact` false names the problem (missing
    file, failed authentication, hash mismatch). The result is kept either way."""
    (result,) = evidence.verify_evidence(
        session, runtime.settings, case_id, evidence_id, actor=principal.actor,
        clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip
    return result


@router.post(
    "/{case_id}/evidence/{evidence_id}/transfer",
    dependencies=MANAGE,
    responses=problems(404),
    summary="Hand custody of a piece to a named person",
)
def transfer_custody(
    case_id: int,
    evidence_id: int,
    body: CustodyTransfer,
    session: SessionDep,
    principal: PrincipalDep,
    runtime: RuntimeDep,
) -> EvidenceRead:
    return evidence.transfer_custody(
        session, case_id, evidence_id, body, actor=principal.actor, clock=runtime.clock,
        scope=assets.scope_of(principal),
    )  # fmt: skip
