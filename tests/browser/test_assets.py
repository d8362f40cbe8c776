"""The inventory in a real browser: import a CSV through the wizard (upload, preview,
confirm), open the created asset, filter the list with HTMX; and axe finds no serious
accessibility violation on the inventory pages in either theme."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from civicshield.core import Role
from tests.browser.conftest import login
from tests.browser.test_accessibility import _audit

pytestmark = pytest.mark.browser


def _unique() -> tuple[str, str]:
    """A name and IP no other test's asset has (the live server's database is shared)."""
    raw = uuid.uuid4()
    return f"pump-{raw.hex[:8]}", f"10.{raw.bytes[0]}.{raw.bytes[1]}.{raw.bytes[2] or 1}"


def _csv(name: str, ip: str) -> bytes:
    return (
        "name,sector,kind,zone,ips,criticality,vendor\n"
        f"{name},water,ot,scada,{ip},5,Siemens\n"
        "broken,water,ot,scada,999.1.1.1,3,\n"
    ).encode()


def _import(page: Any, name: str, ip: str) -> None:
    """Upload, preview and confirm; leaves the browser on the "done" page."""
    page.goto("/assets/import")
    page.get_by_test_id("field-file").set_input_files(
        {"name": "inventory.csv", "mimeType": "text/csv", "buffer": _csv(name, ip)}
    )
    with page.expect_navigation():
        page.get_by_test_id("import-preview").click()
    assert page.get_by_test_id("count-create").inner_text().endswith("1")
    assert "999.1.1.1" in page.get_by_test_id("import-errors").inner_text()
    with page.expect_navigation():
        page.get_by_test_id("import-confirm").click()


def test_import_then_open_the_asset(page: Any, user_factory: Any) -> None:
    name, ip = _unique()
    login(page, user_factory(Role.ANALYST))
    _import(page, name, ip)
    assert "1 created" in page.get_by_test_id("import-done").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()
    assert page.get_by_test_id("asset-name").inner_text().startswith(name)
    assert ip in page.get_by_test_id("asset-ips").inner_text()

    page.goto("/assets")
    page.get_by_test_id("filter-q").fill(name)
    with page.expect_response("**/assets?*"):
        page.get_by_test_id("filter-apply").click()
    page.wait_for_url(f"**/assets?*q={name}*")
    assert page.get_by_test_id("assets-count").inner_text() == "1 asset"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_inventory_pages_are_accessible(
    new_page: Callable[..., Any], user_factory: Any, scheme: str
) -> None:
    found: dict[str, list[str]] = {}
    name, ip = _unique()
    page = new_page(bypass_csp=True, color_scheme=scheme)
    login(page, user_factory(Role.ADMIN))
    page.goto("/assets/import")
    _audit(page, "import upload", found)
    page.get_by_test_id("field-file").set_input_files(
        {"name": "inventory.csv", "mimeType": "text/csv", "buffer": _csv(name, ip)}
    )
    with page.expect_navigation():
        page.get_by_test_id("import-preview").click()
    _audit(page, "import preview", found)
    with page.expect_navigation():
        page.get_by_test_id("import-confirm").click()
    _audit(page, "import done", found)
    with page.expect_navigation():
        page.get_by_role("link", name=name).click()
    _audit(page, "asset detail", found)
    page.goto("/assets")
    _audit(page, "inventory", found)
    assert not found, f"{scheme} theme: {found}"
