"""Helpers for the web tests: compiled catalogues, CSRF tokens out of pages, logging in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from civicshield.core.templating import LOCALE_DIR
from tests.conftest import PASSWORD

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> None:
    """What `make catalogs` does, for a checkout where it has not run (or the .po changed):
    the language tests need the compiled .mo files that the app loads."""
    for po_path in locale_dir.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


def post_form(
    client: Any, page_url: str, action: str, data: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """Open `page_url`, take its CSRF token and post `data` to `action` (no redirects)."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.status_code)
    body = {"csrf_token": csrf_from(page.text), **(data or {})}
    return client.post(action, data=body, follow_redirects=False, **kwargs)


def login(client: Any, username: str, password: str = PASSWORD, next_: str = "/") -> Any:
    return post_form(
        client, "/login", "/login", {"username": username, "password": password, "next": next_}
    )
