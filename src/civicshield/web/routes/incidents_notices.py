"""The notices section of the case page (draft a notice, fill its required fields, save or send
it; record the case in the register) and `/incidents/register`: the whole register (latest
entry per case within the reader's sectors, filtered by period, exported as CSV or PDF, with
the hash chain's status and one case's versions).

A refusal (a missing required field, a mail server that failed, a sent notice) is shown next
to the section's form with what was posted kept; the notice stays a draft."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.responses import Response

from civicshield.accounts import Permission
from civicshield.core.errors import Conflict, ExternalServiceError, Invalid
from civicshield.core.i18n import N_
from civicshield.incidents import CaseDetail
from civicshield.incidents.clocks import parse_local
from civicshield.incidents.notices import (
    CHANNELS,
    LANGUAGES,
    REGISTER_FIELDS,
    NoticeCreate,
    NoticeUpdate,
    create_notice,
    entry_versions,
    list_notices,
    list_register,
    notice_choices,
    offered_profiles,
    record_entry,
    register_csv,
    register_pdf,
    register_prefill,
    send_notice,
    update_notice,
    verify_register,
)
from civicshield.web.deps import require
from civicshield.web.page import Page
from civicshield.web.routes.incidents import ReadPage, case_values, scope_of

__all__ = ["router", "section"]

router = APIRouter()
NotifyPage = Annotated[Page, Depends(require(Permission.INCIDENTS_NOTIFY))]
_CHECK = N_("Check the form: a field is missing or not valid.")
_NOT_SENT = N_("The notice was not sent and stays a draft:")
_CHANNELS = {
    "email": N_("E-mail"),
    "letter": N_("Letter"),
    "portal": N_("Portal"),
    "phone": N_("Phone"),
    "in_person": N_("In person"),
}


def _lang(page: Page) -> str:
    return page.language.split("-", 1)[0]


def section(page: Page, case: CaseDetail) -> dict[str, Any]:
    """What the case page's notices section shows (keys prefixed `notices`)."""
    profiles = offered_profiles(page.runtime.settings)
    scope, lang = scope_of(page), _lang(page)
    with page.runtime.session() as session:
        found = list_notices(session, case.id, profiles, scope=scope)
        choices = notice_choices(session, case.id, profiles, lang=lang, scope=scope)
        versions = entry_versions(session, case.id, scope=scope)
        prefill = register_prefill(session, case.id, scope=scope)
    drafts = [n for n in found if n.status == "draft"]
    wanted = page.query("notice")
    editing = next((n for n in drafts if str(n.id) == wanted), drafts[-1] if drafts else None)
    return {
        "notices_list": found,
        "notices_editing": editing,
        "notices_choices": choices,
        "notices_channels": [(c, _CHANNELS[c]) for c in CHANNELS],
        "notices_languages": LANGUAGES,
        "notices_can_notify": page.can(Permission.INCIDENTS_NOTIFY),
        "notices_register_versions": versions,
        "notices_register_latest": versions[-1] if versions else None,
        "notices_register_prefill": prefill,
        "notices_register_fields": [(f.name, f.label(lang), f.kind) for f in REGISTER_FIELDS],
    }


def _refused(page: Page, case_id: int, exc: Exception, posted: dict[str, str]) -> Response:
    from civicshield.web.routes.incidents_detail import render_case

    status = 409 if isinstance(exc, Conflict) else 422
    if isinstance(exc, ValidationError):
        error = page.gettext(_CHECK)
    elif isinstance(exc, Invalid):
        error = "; ".join([exc.detail, *(e.msg for e in exc.errors)])
        posted["invalid"] = ",".join(str(e.loc[-1]) for e in exc.errors)
    elif isinstance(exc, ExternalServiceError):
        error, status = f"{page.gettext(_NOT_SENT)} {exc.detail}", 502
    else:
        error = getattr(exc, "detail", str(exc))
    return render_case(page, case_id, status=status, section="notices", error=error, form=posted)


@router.post("/incidents/{case_id:int}/notices")
def notice_new(case_id: int, page: NotifyPage) -> Response:
    names = ("obligation_id", "language", "recipient", "address", "channel")
    posted = {n: page.field(n) for n in names}
    try:
        data = NoticeCreate.model_validate({k: v for k, v in posted.items() if v})
        with page.runtime.session() as session:
            made = create_notice(
                session,
                case_id,
                data,
                offered_profiles(page.runtime.settings),
                actor=page.actor,
                clock=page.runtime.clock,
                scope=scope_of(page),
            )
    except (ValidationError, Invalid) as exc:
        return _refused(page, case_id, exc, posted)
    return page.redirect(f"/incidents/{case_id}?notice={made.id}#notices")


def _sent_at(page: Page, raw: str) -> datetime | None:
    """A local wall time in the city's zone (the form's datetime-local), else none."""
    return parse_local(raw, page.runtime.settings.default_timezone).utc if raw else None


@router.post("/incidents/{case_id:int}/notices/{notice_id:int}")
def notice_save(case_id: int, page: NotifyPage, notice_id: int) -> Response:
    """`action`: save (the draft) or send (save, then send or record as sent)."""
    fields = {k[6:]: page.field(k) for k in page.form if k.startswith("field_")}
    posted = {"notice_id": str(notice_id), **{f"field_{k}": v for k, v in fields.items()}}
    for name in ("recipient", "address", "channel", "language", "sent_at"):
        posted[name] = page.field(name)
    profiles = offered_profiles(page.runtime.settings)
    try:
        data = NoticeUpdate.model_validate(
            {
                "fields": fields,
                **{
                    k: posted[k]
                    for k in ("recipient", "address", "channel", "language")
                    if posted[k]
                },
            }
        )
        with page.runtime.session() as session:
            update_notice(
                session,
                case_id,
                notice_id,
                data,
                profiles,
                actor=page.actor,
                clock=page.runtime.clock,
                scope=scope_of(page),
            )
        if page.field("action") == "send":
            with page.runtime.session() as session:
                send_notice(
                    session,
                    case_id,
                    notice_id,
                    profiles,
                    mailer=page.runtime.mailer,
                    city=page.runtime.settings.city_name,
                    actor=page.actor,
                    clock=page.runtime.clock,
                    sent_at=_sent_at(page, posted["sent_at"]),
                    scope=scope_of(page),
                )
    except (ValidationError, Invalid, Conflict, ExternalServiceError) as exc:
        return _refused(page, case_id, exc, posted)
    return page.redirect(f"/incidents/{case_id}?notice={notice_id}#notices")


@router.post("/incidents/{case_id:int}/register")
def register_record(case_id: int, page: NotifyPage) -> Response:
    fields = {f.name: page.field(f"reg_{f.name}") for f in REGISTER_FIELDS}
    try:
        with page.runtime.session() as session:
            record_entry(
                session,
                case_id,
                fields,
                offered_profiles(page.runtime.settings),
                actor=page.actor,
                clock=page.runtime.clock,
                scope=scope_of(page),
            )
    except Invalid as exc:
        return _refused(page, case_id, exc, {f"reg_{k}": v for k, v in fields.items()})
    return page.redirect(f"/incidents/{case_id}#register")


def _period(page: Page) -> tuple[datetime | None, datetime | None, dict[str, str]]:
    """`since`/`until` as days in the city's zone (until inclusive); bad dates are ignored."""
    zone = ZoneInfo(page.runtime.settings.default_timezone)
    out: list[datetime | None] = []
    shown: dict[str, str] = {}
    for name, shift in (("since", 0), ("until", 1)):
        try:
            day = date.fromisoformat(page.query(name))
        except ValueError:
            out.append(None)
            continue
        shown[name] = day.isoformat()
        out.append(datetime.combine(day + timedelta(days=shift), time(), zone))
    return out[0], out[1], shown


@router.get("/incidents/register")
def register_page(page: ReadPage) -> Response:
    since, until, shown = _period(page)
    with page.runtime.session() as session:
        entries = list_register(session, scope=scope_of(page), since=since, until=until)
        check = verify_register(session)
        case_id = int(page.query("case")) if page.query("case").isdigit() else None
        allowed = {e.case_id for e in list_register(session, scope=scope_of(page))}
        versions = entry_versions(session, case_id) if case_id in allowed else []
    lang = _lang(page)
    return page.render(
        "incidents/register.html",
        entries=entries,
        check=check,
        filters=shown,
        versions=versions,
        case_id=case_id,
        languages_doc=LANGUAGES,
        doc_lang=lang,
        fields=[(f.name, f.label(lang)) for f in REGISTER_FIELDS],
        **case_values(page),
    )


def _export_entries(page: Page) -> Any:
    since, until, _ = _period(page)
    with page.runtime.session() as session:
        entries = list_register(
            session,
            scope=scope_of(page),
            since=since,
            until=until,
            all_versions=page.query("all_versions") == "1",
        )
        return entries, verify_register(session), since, until


def _doc_lang(page: Page) -> str:
    wanted = page.query("language")
    return wanted if wanted in LANGUAGES else _lang(page)


@router.get("/incidents/register.csv")
def register_page_csv(page: ReadPage) -> Response:
    entries, _check, _s, _u = _export_entries(page)
    return Response(
        register_csv(entries, language=_doc_lang(page)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="incident-register.csv"'},
    )


@router.get("/incidents/register.pdf")
def register_page_pdf(page: ReadPage) -> Response:
    entries, check, since, until = _export_entries(page)
    period = f"{since.date() if since else '…'} – {until.date() if until else '…'}"
    settings = page.runtime.settings
    pdf = register_pdf(
        entries,
        check,
        language=_doc_lang(page),
        city=settings.city_name,
        generated_at=page.runtime.clock.now(),
        tz=settings.default_timezone,
        period=period,
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="incident-register.pdf"'},
    )
