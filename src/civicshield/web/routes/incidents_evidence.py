"""The evidence section of the case page: the pieces with their integrity (a tampered piece is
shown as an alert), an upload form, Verify and Download buttons, the custody log of each piece
and a transfer form. Downloads are always attachments of opaque bytes, verified first; a piece
that fails is refused (409) with the reason shown in the section."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from civicshield.core.errors import Conflict, Invalid, TooLarge
from civicshield.core.i18n import N_
from civicshield.incidents import CaseDetail, evidence
from civicshield.incidents.evidence import CustodyTransfer, download_headers
from civicshield.web.forms import domain_errors
from civicshield.web.page import Page
from civicshield.web.routes.incidents import ManagePage, scope_of
from civicshield.web.routes.incidents_detail import render_case

__all__ = ["router", "section"]

router = APIRouter()
SECTION = "evidence"


def section(page: Page, case: CaseDetail) -> dict[str, Any]:
    """What the case page's evidence section shows (keys prefixed `evidence`)."""
    with page.runtime.session() as session:
        pieces = evidence.list_evidence(session, case.id, scope=scope_of(page))
    return {
        "evidence_items": pieces,
        "evidence_max_mib": page.runtime.settings.evidence_max_bytes / (1024 * 1024),
    }


def _refused(page: Page, case_id: int, status: int, error: str) -> Response:
    form = {k: page.field(k) for k in ("description", "to", "note")}
    return render_case(page, case_id, status=status, section=SECTION, error=error, form=form)


@router.post("/incidents/{case_id:int}/evidence")
def upload(case_id: int, page: ManagePage) -> Response:
    upload = page.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _refused(page, case_id, 422, page.gettext(N_("Choose a file to upload.")))
    try:
        with page.runtime.session() as session:
            evidence.add_evidence(
                session, page.runtime.settings, case_id, upload.file, filename=upload.filename,
                description=page.field("description"), media_type=upload.content_type or "",
                actor=page.actor, clock=page.runtime.clock, scope=scope_of(page),
            )  # fmt: skip
    except TooLarge as exc:
        return _refused(page, case_id, 413, exc.detail)
    except Invalid as exc:
        return _refused(page, case_id, 422, "; ".join(domain_errors(page, exc).values()))
    finally:
        upload.file.close()  # nothing closes the parsed form's spooled files for us
    return page.redirect(f"/incidents/{case_id}#evidence")


@router.post("/incidents/{case_id:int}/evidence/{evidence_id:int}/verify")
def verify(case_id: int, evidence_id: int, page: ManagePage) -> Response:
    with page.runtime.session() as session:
        evidence.verify_evidence(
            session, page.runtime.settings, case_id, evidence_id, actor=page.actor,
            clock=page.runtime.clock, scope=scope_of(page),
        )  # fmt: skip
    return page.redirect(f"/incidents/{case_id}#evidence-{evidence_id}")


@router.post("/incidents/{case_id:int}/evidence/{evidence_id:int}/transfer")
def transfer(case_id: int, evidence_id: int, page: ManagePage) -> Response:
    try:
        data = CustodyTransfer(to=page.field("to"), note=page.field("note"))
        with page.runtime.session() as session:
            evidence.transfer_custody(
                session, case_id, evidence_id, data, actor=page.actor,
                clock=page.runtime.clock, scope=scope_of(page),
            )  # fmt: skip
    except (ValidationError, Invalid):
        message = N_("Name the person taking custody (200 characters at most; note 2,000).")
        return _refused(page, case_id, 422, page.gettext(message))
    return page.redirect(f"/incidents/{case_id}#evidence-{evidence_id}")


# POST (with the CSRF token): a download writes the custody log, so no cross-site GET may.
@router.post("/incidents/{case_id:int}/evidence/{evidence_id:int}/download")
def download(case_id: int, evidence_id: int, page: ManagePage) -> Response:
    try:
        with page.runtime.session() as session:
            opened = evidence.open_evidence(
                session, page.runtime.settings, case_id, evidence_id, actor=page.actor,
                clock=page.runtime.clock, scope=scope_of(page),
            )  # fmt: skip
    except Conflict as exc:  # tampered: the failed check is kept and shown
        return _refused(page, case_id, 409, exc.detail)
    headers = download_headers(opened.filename, opened.size)
    return StreamingResponse(opened.chunks(), media_type=headers["Content-Type"], headers=headers)
