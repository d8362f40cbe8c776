"""The prioritisation policy editor (`vulns:policy`) and the scanner import (`vulns:manage`).

The policy is edited as JSON with its JSON Schema beside it: a save adds a version, then every
finding is re-assessed and the page says how many changed decision. A scanner output is parsed
and merged in one step (importing the same report twice changes nothing); records that could
not be read are listed with their location.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.datastructures import UploadFile
from starlette.responses import Response

from civicshield import assets, vulns
from civicshield.accounts import Permission
from civicshield.assets import AssetFilter
from civicshield.core.errors import Invalid, NotFound
from civicshield.core.i18n import N_
from civicshield.vulns import SCAN_FORMATS, Policy
from civicshield.web.deps import require
from civicshield.web.page import Page
from civicshield.web.routes.vulns import scope_of

__all__ = ["MAX_SCAN_BYTES", "router"]

router = APIRouter()
PolicyPage = Annotated[Page, Depends(require(Permission.VULNS_POLICY))]
ManagePage = Annotated[Page, Depends(require(Permission.VULNS_MANAGE))]

MAX_SCAN_BYTES = 8 * 1024 * 1024  # below the app's request limit, so this message is shown
_ASSET_CHOICES = 500  # more assets than this: type the id instead of picking it


def _policy_page(
    page: Page, *, text: str | None = None, error: str | None = None, status: int = 200
) -> Response:
    with page.runtime.session() as session:
        version, policy = vulns.current_policy(session, clock=page.runtime.clock)
        versions = vulns.list_policies(session, clock=page.runtime.clock)
    saved, changed = page.query("saved"), page.query("changed")
    return page.render(
        "vulns/policy.html",
        status=status,
        nav_key="vulnerabilities",
        version=version,
        text=text if text is not None else json.dumps(policy.model_dump(mode="json"), indent=2),
        schema=json.dumps(Policy.model_json_schema(), indent=2),
        versions=versions,
        error=error,
        note=page.field("note"),
        saved=saved if saved.isdigit() else "",
        changed=changed if changed.isdigit() else "",
    )


@router.get("/vulns/policy")
def policy_form(page: PolicyPage) -> Response:
    return _policy_page(page)


def _json_error(page: Page, exc: json.JSONDecodeError) -> str:
    return page.gettext(
        N_("The policy is not valid JSON: %(problem)s at line %(line)s, column %(column)s."),
        problem=exc.msg,
        line=exc.lineno,
        column=exc.colno,
    )


@router.post("/vulns/policy")
def policy_save(page: PolicyPage) -> Response:
    text = page.field("policy")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return _policy_page(page, text=text, error=_json_error(page, exc), status=422)
    if not isinstance(data, dict):
        message = page.gettext(N_("The policy must be a JSON object ({...})."))
        return _policy_page(page, text=text, error=message, status=422)
    try:
        with page.runtime.session() as session:
            saved = vulns.save_policy(
                session,
                data,
                note=page.field("note")[:500],
                actor=page.actor,
                clock=page.runtime.clock,
            )
            changed = vulns.reassess(session, clock=page.runtime.clock, actor=page.actor)
    except Invalid as exc:
        # The domain's message names the field path (`policy sla.act_days: …`).
        return _policy_page(page, text=text, error=exc.detail, status=422)
    return page.redirect(f"/vulns/policy?saved={saved.version}&changed={changed}")


def _asset_choices(page: Page) -> tuple[list[Any], bool]:
    """Assets in scope to pick a target from, and whether there were too many to list."""
    with page.runtime.session() as session:
        found = assets.list_assets(
            session, AssetFilter(), scope=scope_of(page), limit=_ASSET_CHOICES
        )
    return found.items, found.total > _ASSET_CHOICES


def _import_page(page: Page, *, error: str | None = None, status: int = 200) -> Response:
    choices, too_many = _asset_choices(page)
    posted = page.request.method == "POST"
    target = page.field("target") if posted else page.query("target")
    return page.render(
        "vulns/import.html",
        status=status,
        nav_key="vulnerabilities",
        error=error,
        formats=SCAN_FORMATS,
        chosen_format=page.field("format"),
        choices=choices,
        too_many=too_many,
        target=target,
        max_mib=MAX_SCAN_BYTES // (1024 * 1024),
    )


@router.get("/vulns/import")
def import_form(page: ManagePage) -> Response:
    return _import_page(page)


def _read_upload(page: Page) -> tuple[str, bytes] | str:
    """(file name, bytes) of the posted file, or the message to show instead."""
    upload = page.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return page.gettext(N_("Choose a file to import."))
    try:
        data = upload.file.read(MAX_SCAN_BYTES + 1)
    finally:
        upload.file.close()
    if len(data) > MAX_SCAN_BYTES:
        return page.gettext(
            N_("%(file)s is larger than %(size)s MiB: split it into smaller files."),
            file=upload.filename,
            size=MAX_SCAN_BYTES // (1024 * 1024),
        )
    if not data.strip():
        return page.gettext(N_("%(file)s is empty."), file=upload.filename)
    return Path(upload.filename).name[:200], data


@router.post("/vulns/import")
def import_scan(page: ManagePage) -> Response:
    read = _read_upload(page)
    if isinstance(read, str):
        return _import_page(page, error=read, status=422)
    filename, data = read
    fmt = page.field("format")
    raw_target = page.field("target")
    if fmt and fmt not in SCAN_FORMATS:
        return _import_page(
            page, error=page.gettext(N_("Choose a format from the list.")), status=422
        )
    if raw_target and not (raw_target.isdigit() and len(raw_target) < 12):
        message = page.gettext(N_("The target asset must be an asset id (a number)."))
        return _import_page(page, error=message, status=422)
    target = int(raw_target) if raw_target else None
    try:
        report = vulns.parse_scan(data, source=filename, fmt=fmt or None)
        with page.runtime.session() as session:
            summary = vulns.import_scan(
                session,
                report,
                actor=page.actor,
                clock=page.runtime.clock,
                scope=scope_of(page),
                target_asset_id=target,
            )
    except NotFound:
        message = page.gettext(
            N_("Asset %(id)s does not exist or is outside your sectors."), id=target
        )
        return _import_page(page, error=message, status=422)
    except Invalid as exc:  # the whole file is unreadable: the message names file and place
        return _import_page(page, error=exc.detail, status=422)
    return page.render(
        "vulns/import_done.html",
        nav_key="vulnerabilities",
        summary=summary,
        target=target,
        filename=filename,
    )
