"""The rule catalogue in a real browser: the HTMX filter swaps the table, a rule's YAML shows
as text."""

from __future__ import annotations

from typing import Any

import pytest

from civicshield.core import Role
from civicshield.detect import catalog
from civicshield.runtime import Runtime
from tests.browser.conftest import login
from tests.catalog_rules import HOSTILE, LOW, PS, install_rules

pytestmark = pytest.mark.browser


def test_filter_and_open_a_rule(page: Any, user_factory: Any, live_runtime: Runtime) -> None:
    install_rules(live_runtime.settings)
    catalog.build_catalog(live_runtime.settings)
    login(page, user_factory(Role.ANALYST))
    page.goto("/rules")
    assert page.get_by_test_id(f"rule-row-{PS}").is_visible()
    page.get_by_test_id("filter-q").fill("calc")
    with page.expect_response("**/rules?*"):
        page.get_by_test_id("filter-apply").click()
    page.wait_for_url("**/rules?*q=calc*")
    assert page.get_by_test_id(f"rule-row-{LOW}").is_visible()
    assert page.get_by_test_id(f"rule-row-{PS}").count() == 0
    page.goto(f"/rules/{HOSTILE}")
    title = page.get_by_test_id("rule-title").inner_text()
    assert title == "<script>alert(1)</script>"  # shown as text, never run
    assert "<script>alert(1)</script>" in page.get_by_test_id("rule-yaml").inner_text()
    assert page.locator("pre[data-testid=rule-yaml] script").count() == 0
