"""The inventory import wizard: (1) upload a file, (2) see what it would create, update or
refuse, (3) confirm, which applies it and shows the counts. Plus the CSV template download.

Between preview and confirm the uploaded bytes stay on the server, under
`<data_dir>/imports/<user id>-<random token>`: the confirm form carries only the token, so the
browser cannot swap in other content after the preview, and another user cannot confirm (or
even find) someone else's upload. The alternative, re-uploading with a signed HMAC of the
content, would make the person pick the file again on the confirm step. A stored upload is
deleted when applied, and any older than an hour is swept at the next upload or confirm.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from civicshield import assets, vulns
from civicshield.accounts import Permission
from civicshield.assets import (
    CRITICALITY_LABELS,
    AssetKind,
    AssetRead,
    ImportDefaults,
    ImportPreview,
)
from civicshield.core.errors import Invalid
from civicshield.core.i18n import N_
from civicshield.web.deps import require
from civicshield.web.page import Page
from civicshield.web.routes.assets import sectors_for

__all__ = ["FORMATS", "MAX_IMPORT_BYTES", "MAX_UPLOAD_AGE", "router"]

router = APIRouter()
ManagePage = Annotated[Page, Depends(require(Permission.ASSETS_MANAGE))]

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_AGE = 3600  # seconds an upload waits for its confirmation
# The override choices, by the name `preview_import` takes; without one it sniffs the bytes.
FORMATS: dict[str, str] = {
    "csv": N_("CSV (inventory template)"),
    "xlsx": N_("Excel workbook (inventory template)"),
    "nmap": N_("Nmap XML report"),
    "cyclonedx": N_("CycloneDX SBOM (JSON or XML)"),
    "spdx": N_("SPDX SBOM (JSON)"),
}
_DEFAULT_FIELDS = ("sector", "zone", "kind", "criticality")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class _Upload:
    """What the preview used, so the confirmation plans exactly the same import."""

    token: str
    filename: str
    fmt: str | None  # None: detected from the content
    defaults: dict[str, str]
    target: int | None
    data: bytes

    def meta(self) -> str:
        keys = ("filename", "fmt", "defaults", "target")
        return json.dumps({k: getattr(self, k) for k in keys})


def _folder(page: Page) -> Path:
    return page.runtime.settings.data_dir / "imports"


def _sweep(folder: Path) -> None:
    """Delete uploads nobody confirmed within the hour."""
    if not folder.is_dir():
        return
    limit = time.time() - MAX_UPLOAD_AGE
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _paths(page: Page, token: str) -> tuple[Path, Path]:
    stem = f"{page.user.user_id}-{token}"
    folder = _folder(page)
    return folder / f"{stem}.bin", folder / f"{stem}.json"


def _store(page: Page, upload: _Upload) -> str:
    """Keep the upload for its confirmation; returns the token that names it."""
    folder = _folder(page)
    _sweep(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(24)
    body, meta = _paths(page, token)
    body.write_bytes(upload.data)
    meta.write_text(upload.meta(), encoding="utf-8")
    return token


def _fetch(page: Page, token: str) -> _Upload | None:
    """This user's stored upload, or None when the token is unknown, foreign or expired."""
    _sweep(_folder(page))
    if not _TOKEN.match(token):
        return None
    body, meta = _paths(page, token)
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        return _Upload(
            token,
            info["filename"],
            info["fmt"],
            info["defaults"],
            info["target"],
            body.read_bytes(),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _discard(page: Page, token: str) -> None:
    for path in _paths(page, token):
        path.unlink(missing_ok=True)


def _defaults(page: Page, raw: dict[str, str]) -> ImportDefaults:
    """Defaults for created assets; a sector outside the user's scope is refused here too."""
    values = {k: v for k, v in raw.items() if v}
    defaults = ImportDefaults.model_validate(values)
    if defaults.sector is not None and defaults.sector not in sectors_for(page):
        raise Invalid(f"sector {defaults.sector.value!r} is not one of your sectors")
    return defaults


def _preview(page: Page, upload: _Upload) -> ImportPreview:
    defaults = _defaults(page, upload.defaults)
    with page.runtime.session() as session:
        return assets.preview_import(
            session,
            data=upload.data,
            filename=upload.filename,
            scope=assets.scope_of(page.user),
            fmt=upload.fmt,
            defaults=defaults,
            target_asset_id=upload.target,
        )


def _target(page: Page, raw: str) -> AssetRead | None:
    """The asset an SBOM's components go to (`?target=ID` from its page), or None."""
    if not raw.isdigit() or len(raw) > 12:
        return None
    with page.runtime.session() as session:
        return assets.get_asset(session, int(raw), scope=assets.scope_of(page.user))


def _upload_form(page: Page, error: str | None = None, status: int = 200) -> Response:
    posted = page.request.method == "POST"
    return page.render(
        "assets/import.html",
        status=status,
        nav_key="inventory",
        error=error,
        formats=FORMATS,
        values={name: page.field(name) for name in ("format", *_DEFAULT_FIELDS)},
        target=_target(page, page.field("target") if posted else page.query("target")),
        sectors=sectors_for(page),
        kinds=list(AssetKind),
        criticalities=CRITICALITY_LABELS,
        max_mib=MAX_IMPORT_BYTES // (1024 * 1024),
    )


@router.get("/assets/import")
def import_form(page: ManagePage) -> Response:
    return _upload_form(page)


@router.get("/assets/import/template")
def import_template(page: ManagePage) -> Response:
    return Response(
        assets.template_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="civicshield-assets.csv"'},
    )


def _read_upload(page: Page) -> tuple[str, bytes] | str:
    """(filename, bytes) of the posted file, or the message to show instead."""
    upload = page.form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return page.gettext(N_("Choose a file to import."))
    try:
        data = upload.file.read(MAX_IMPORT_BYTES + 1)
    finally:
        upload.file.close()  # nothing closes the parsed form's spooled files for us
    if len(data) > MAX_IMPORT_BYTES:
        mib = MAX_IMPORT_BYTES // (1024 * 1024)
        return page.gettext(
            N_("%(file)s is larger than %(size)s MiB: split it into smaller files."),
            file=upload.filename,
            size=mib,
        )
    if not data.strip():
        return page.gettext(N_("%(file)s is empty."), file=upload.filename)
    return Path(upload.filename).name[:200], data


@router.post("/assets/import")
def import_preview(page: ManagePage) -> Response:
    read = _read_upload(page)
    if isinstance(read, str):
        return _upload_form(page, read, 422)
    filename, data = read
    fmt = page.field("format")
    if fmt and fmt not in FORMATS:
        return _upload_form(page, page.gettext(N_("Choose a format from the list.")), 422)
    target = _target(page, page.field("target"))
    raw_defaults = {name: page.field(name)[:100] for name in _DEFAULT_FIELDS}
    upload = _Upload("", filename, fmt or None, raw_defaults, target.id if target else None, data)
    try:
        preview = _preview(page, upload)
    except ValidationError:
        message = N_("Check the defaults: a sector, a zone of at most 100 characters, a kind.")
        return _upload_form(page, page.gettext(message), 422)
    except Invalid as exc:
        # The whole file is unreadable: the message names the file and the place.
        return _upload_form(page, exc.detail, 422)
    return _render_preview(page, preview, _store(page, upload), target=target)


def _render_preview(
    page: Page, preview: ImportPreview, token: str, *, target: AssetRead | None
) -> Response:
    return page.render(
        "assets/import_preview.html",
        nav_key="inventory",
        preview=preview,
        counts=preview.counts,
        token=token,
        formats=FORMATS,
        target=target,
    )


@router.post("/assets/import/confirm")
def import_confirm(page: ManagePage) -> Response:
    token = page.field("token")
    upload = _fetch(page, token)
    if upload is None:
        message = N_("This import expired or was already applied. Upload the file again.")
        return _upload_form(page, page.gettext(message), 410)
    # Planned again against the inventory as it is now: someone may have changed it since.
    try:
        preview = _preview(page, upload)
        with page.runtime.session() as session:
            result = assets.apply(
                session,
                preview,
                actor=page.actor,
                clock=page.runtime.clock,
                scope=assets.scope_of(page.user),
            )
            follow_up = vulns.follow_inventory_import(
                session,
                asset_ids=_touched_ids(result),
                fmt=result.format,
                data=upload.data,
                source=upload.filename,
                actor=page.actor,
                clock=page.runtime.clock,
                scope=assets.scope_of(page.user),
            )
    except Invalid as exc:
        return _upload_form(page, exc.detail, 422)
    _discard(page, token)
    return page.render(
        "assets/import_done.html",
        nav_key="inventory",
        result=result,
        counts=result.counts,
        touched=[r for r in result.rows if r.action in ("create", "update") and r.asset_id],
        follow_up=follow_up,
    )


def _touched_ids(result: ImportPreview) -> list[int]:
    return [r.asset_id for r in result.rows if r.action in ("create", "update") and r.asset_id]
