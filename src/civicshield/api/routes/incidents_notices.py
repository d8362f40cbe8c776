"""`/api/v1/incidents/...`: legal notices of a case and the confidentiality-incident register.

Reading needs incidents:read (a sector operator sees only the cases of their sectors);
drafting, sending and recording in the register need incidents:notify. The literal paths
(`/incidents/register...`) live here because this router is included before the cases one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Body, Depends, Query, Response

from civicshield import assets
from civicshield.accounts import Permission
from civicshield.api.deps import PaginationDep, PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.api.schemas import Page
from civicshield.core.clock import as_utc
from civicshield.incidents.notices import (
    ChainCheck,
    NoticeChoice,
    NoticeCreate,
    NoticeRead,
    NoticeSend,
    NoticeUpdate,
    RegisterEntryRead,
    RegisterRecord,
    create_notice,
    entry_versions,
    get_notice,
    list_notices,
    list_register,
    notice_choices,
    offered_profiles,
    record_entry,
    register_csv,
    register_pdf,
    send_notice,
    update_notice,
    verify_register,
)

__all__ = ["router"]

router = resource_router("/incidents", "incidents")
READ = [Depends(require(Permission.INCIDENTS_READ))]
NOTIFY = [Depends(require(Permission.INCIDENTS_NOTIFY))]
Lang = Annotated[str, Query(pattern="^(en|es|fr)$", description="Labels' language.")]


@dataclass(frozen=True)
class Selection:
    entries: list[RegisterEntryRead]
    since: datetime | None
    until: datetime | None


def _selection(
    session: SessionDep,
    principal: PrincipalDep,
    since: Annotated[
        datetime | None, Query(description="Recorded at or after (no offset: UTC).")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Recorded before (no offset: UTC).")
    ] = None,
    all_versions: Annotated[bool, Query(description="Every version, not the latest only.")] = False,
) -> Selection:
    """The entries of the cases the reader may see (a sector operator: their sectors)."""
    since, until = as_utc(since), as_utc(until)
    found = list_register(
        session,
        scope=assets.scope_of(principal),
        since=since,
        until=until,
        all_versions=all_versions,
    )
    return Selection(found, since, until)


SelectionDep = Annotated[Selection, Depends(_selection)]


@router.get("/register", dependencies=READ, summary="The register: latest entry per case")
def register(chosen: SelectionDep, pagination: PaginationDep) -> Page[RegisterEntryRead]:
    """Oldest case first."""
    found = chosen.entries
    end = pagination.offset + pagination.limit
    return pagination.page(found[pagination.offset : end], len(found))


@router.get("/register/verify", dependencies=READ, summary="Verify the register's hash chain")
def register_verify(session: SessionDep) -> ChainCheck:
    """`first_broken_id` names the first row whose content or link does not match its hash."""
    return verify_register(session)


@router.get(
    "/register.csv", dependencies=READ, response_class=Response, summary="The register as CSV"
)
def register_export_csv(chosen: SelectionDep, language: Lang = "en") -> Response:
    """UTF-8 with a BOM; cells a spreadsheet would run as formulas start with an apostrophe."""
    return Response(
        register_csv(chosen.entries, language=language),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incident-register.csv"'},
    )


@router.get(
    "/register.pdf",
    dependencies=READ,
    response_class=Response,
    responses=problems(503),
    summary="The register as PDF",
)
def register_export_pdf(
    chosen: SelectionDep, session: SessionDep, runtime: RuntimeDep, language: Lang = "en"
) -> Response:
    """Title, city, period, generation time, each entry's fields and the chain's check."""
    since, until = chosen.since, chosen.until
    period = f"{since.isoformat() if since else '…'} – {until.isoformat() if until else '…'}"
    pdf = register_pdf(
        chosen.entries, verify_register(session), language=language,
        city=runtime.settings.city_name, generated_at=runtime.clock.now(),
        tz=runtime.settings.default_timezone, period=period,
    )  # fmt: skip
    disposition = 'attachment; filename="incident-register.pdf"'
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})


@router.get(
    "/{case_id}/notices", dependencies=READ, responses=problems(404), summary="A case's notices"
)
def notices(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep
) -> list[NoticeRead]:
    return list_notices(
        session, case_id, offered_profiles(runtime.settings), scope=assets.scope_of(principal)
    )


@router.get(
    "/{case_id}/notices/obligations", dependencies=READ, responses=problems(404),
    summary="Obligations a notice can be drafted for",
)  # fmt: skip
def notice_obligations(
    case_id: int, session: SessionDep, principal: PrincipalDep, runtime: RuntimeDep,
    lang: Lang = "en",
) -> list[NoticeChoice]:  # fmt: skip
    """Those the case runs first; register obligations are met by a register entry instead."""
    return notice_choices(
        session, case_id, offered_profiles(runtime.settings), lang=lang,
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post(
    "/{case_id}/notices", dependencies=NOTIFY, status_code=201,
    responses=problems(404, 422), summary="Draft a notice",
)  # fmt: skip
def draft_notice(
    case_id: int, body: NoticeCreate, response: Response, session: SessionDep,
    principal: PrincipalDep, runtime: RuntimeDep,
) -> NoticeRead:  # fmt: skip
    """The obligation's required fields, prefilled from the case where it knows them."""
    made = create_notice(
        session, case_id, body, offered_profiles(runtime.settings), actor=principal.actor,
        clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip
    response.headers["Location"] = f"/api/v1/incidents/{case_id}/notices/{made.id}"
    return made


@router.get(
    "/{case_id}/notices/{notice_id}", dependencies=READ, responses=problems(404),
    summary="One notice (with its copy once sent)",
)  # fmt: skip
def notice(
    case_id: int, notice_id: int, session: SessionDep, principal: PrincipalDep,
    runtime: RuntimeDep,
) -> NoticeRead:  # fmt: skip
    return get_notice(
        session, case_id, notice_id, offered_profiles(runtime.settings),
        scope=assets.scope_of(principal),
    )  # fmt: skip


@router.patch(
    "/{case_id}/notices/{notice_id}", dependencies=NOTIFY,
    responses=problems(404, 409, 422), summary="Change a draft",
)  # fmt: skip
def change_notice(
    case_id: int, notice_id: int, body: NoticeUpdate, session: SessionDep,
    principal: PrincipalDep, runtime: RuntimeDep,
) -> NoticeRead:  # fmt: skip
    """409 once sent: a sent notice never changes."""
    return update_notice(
        session, case_id, notice_id, body, offered_profiles(runtime.settings),
        actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.post(
    "/{case_id}/notices/{notice_id}/send", dependencies=NOTIFY,
    responses=problems(404, 409, 422, 502), summary="Send a notice",
)  # fmt: skip
def send(
    case_id: int, notice_id: int, session: SessionDep, principal: PrincipalDep,
    runtime: RuntimeDep, body: Annotated[NoticeSend | None, Body()] = None,
) -> NoticeRead:  # fmt: skip
    """E-mail: sent now through the mail server (502 when it fails; the notice stays a draft).
    Other channels: recorded as sent at `sent_at` (default now). 422 names every missing field."""
    return send_notice(
        session, case_id, notice_id, offered_profiles(runtime.settings), mailer=runtime.mailer,
        city=runtime.settings.city_name, actor=principal.actor, clock=runtime.clock,
        sent_at=body.sent_at if body else None, scope=assets.scope_of(principal),
    )  # fmt: skip


@router.get(
    "/{case_id}/register", dependencies=READ, responses=problems(404),
    summary="The versions of a case's register entry",
)  # fmt: skip
def case_register(
    case_id: int, session: SessionDep, principal: PrincipalDep
) -> list[RegisterEntryRead]:
    return entry_versions(session, case_id, scope=assets.scope_of(principal))


@router.post(
    "/{case_id}/register", dependencies=NOTIFY, status_code=201,
    responses=problems(404, 422), summary="Record a new version in the register",
)  # fmt: skip
def record(
    case_id: int, body: RegisterRecord, session: SessionDep, principal: PrincipalDep,
    runtime: RuntimeDep,
) -> RegisterEntryRead:  # fmt: skip
    """Append-only: fields not sent keep the previous version's (or the case's) value."""
    return record_entry(
        session, case_id, body.fields, offered_profiles(runtime.settings),
        actor=principal.actor, clock=runtime.clock, scope=assets.scope_of(principal),
    )  # fmt: skip
