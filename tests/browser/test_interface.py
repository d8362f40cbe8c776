"""Language and theme switches, HTMX interactions, CSRF refusal and keyboard use."""

from __future__ import annotations

from typing import Any

import pytest

from civicshield.core import Role
from tests.browser.conftest import login

pytestmark = pytest.mark.browser


def test_language_switch(page: Any) -> None:
    page.goto("/login")
    with page.expect_navigation():
        page.get_by_test_id("lang-es-MX").click()
    assert page.locator("html").get_attribute("lang") == "es-MX"
    assert page.locator("h1").inner_text() == "Iniciar sesión"
    with page.expect_navigation():
        page.get_by_test_id("lang-fr-CA").click()
    assert page.locator("html").get_attribute("lang") == "fr-CA"
    assert page.locator("h1").inner_text() == "Se connecter"
    assert page.get_by_test_id("lang-fr-CA").get_attribute("aria-pressed") == "true"


def test_theme_switch_applies_at_once_and_survives_reload(page: Any, user_factory: Any) -> None:
    login(page, user_factory(Role.VIEWER))
    with page.expect_response("**/preferences/theme") as answer:
        page.get_by_test_id("theme-dark").click()
    assert answer.value.status == 204  # saved in the background, no page load
    assert page.locator("html").get_attribute("data-theme") == "dark"
    assert page.get_by_test_id("theme-dark").get_attribute("aria-pressed") == "true"
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    reloaded = page.reload()
    # No flash: the served HTML already carries the theme, before any script runs.
    assert '<html lang="en" data-theme="dark">' in reloaded.text()
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == background


def test_system_theme_follows_the_os(new_page: Any) -> None:
    page = new_page(color_scheme="dark")
    page.goto("/login")
    assert page.locator("html").get_attribute("data-theme") == "system"
    dark = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    page.emulate_media(color_scheme="light")
    light = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert dark != light


def test_forged_form_post_is_refused(page: Any, user_factory: Any) -> None:
    login(page, user_factory(Role.ADMIN))
    page.evaluate("""() => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = '/preferences/theme';
        const field = document.createElement('input');
        field.name = 'theme'; field.value = 'dark';
        form.append(field);
        document.body.append(form);
        form.submit();
    }""")
    page.get_by_test_id("error-page").wait_for()
    assert page.get_by_test_id("error-page").get_attribute("data-status") == "403"
    assert "Form expired or forged" in page.locator("h1").inner_text()


def test_cross_site_post_is_refused_even_with_a_token(
    page: Any, user_factory: Any, live: Any
) -> None:
    login(page, user_factory(Role.ADMIN))
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    page.route(
        "http://evil.example/",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f"""<form method="post" action="{live.url}/preferences/theme">
                 <input name="csrf_token" value="{token}"><input name="theme" value="dark">
                 </form>""",
        ),
    )
    page.goto("http://evil.example/")
    with page.expect_navigation():
        page.evaluate("document.forms[0].submit()")
    assert page.get_by_test_id("error-page").get_attribute("data-status") == "403"


def test_htmx_filter_and_revoke_without_reload(page: Any, user_factory: Any) -> None:
    login(page, user_factory(Role.ADMIN))
    page.goto("/tokens")
    page.get_by_test_id("field-name").fill("nightly export")
    page.get_by_test_id("scope-dashboard:view").check()
    page.get_by_test_id("token-create-submit").click()
    assert page.get_by_test_id("token-secret").inner_text().startswith("cs_")  # waits
    page.goto("/tokens")
    page.evaluate("window.__same_page = true")
    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tr", has_text="nightly export")
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_selector("[data-testid^=token-revoked-]")
    assert page.evaluate("window.__same_page") is True  # swapped in place, no navigation

    page.goto("/admin/users")
    page.evaluate("window.__same_page = true")
    page.get_by_test_id("filter-q").fill("zz-nobody")
    page.get_by_test_id("user-empty").wait_for()
    assert "q=zz-nobody" in page.url  # the filter is in the address (hx-push-url)
    assert page.evaluate("window.__same_page") is True


def test_cancelled_confirmation_does_not_post(page: Any, user_factory: Any) -> None:
    login(page, user_factory(Role.ADMIN))
    page.goto("/admin/users")
    target = user_factory(Role.VIEWER)
    page.goto("/admin/users?q=" + target)
    with page.expect_navigation():
        page.get_by_test_id(f"user-link-{target}").click()
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_test_id("user-toggle-active").click()
    page.wait_for_timeout(300)
    assert page.get_by_test_id("user-toggle-active").inner_text() == "Disable account"


def test_keyboard_focus_is_visible(page: Any) -> None:
    page.goto("/login")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.dataset.testid")
    assert focused == "skip-link"
    box = page.get_by_test_id("skip-link").bounding_box()
    assert box is not None and box["y"] >= 0  # moved on screen when focused
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineWidth")
    assert outline not in ("0px", "")


def test_pages_run_under_the_csp_without_errors(page: Any, user_factory: Any) -> None:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, user_factory(Role.ADMIN))
    for path in ["/", "/admin/users", "/admin/users/new", "/tokens", "/audit", "/jobs", "/profile"]:
        page.goto(path)
        assert page.evaluate("typeof htmx") == "object", path  # vendored, integrity-checked
    assert not errors, errors


def test_long_audit_summaries_wrap_inside_the_dashboard_card(
    page: Any, user_factory: Any, live_runtime: Any
) -> None:
    from civicshield import audit
    from civicshield.core import SYSTEM

    digest = "sha256:" + "9f" * 32  # no break opportunity in 71 characters
    with live_runtime.session() as session:
        audit.record(
            session,
            actor=SYSTEM,
            action="incidents.evidence.verified_with_a_long_action_name",
            entity_type="evidence",
            entity_id=1,
            clock=live_runtime.clock,
            summary=f"evidence {digest}{digest}",
        )
        session.commit()
    login(page, user_factory(Role.ADMIN))
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto("/")
    card = page.get_by_test_id("card-audit")
    assert card.get_by_text("sha256:9f9f", exact=False).first.is_visible()
    overflow = card.evaluate(
        "c => [...c.querySelectorAll('li > *')].map(e => e.scrollWidth - e.clientWidth)"
        ".concat([c.scrollWidth - c.clientWidth])"
    )
    assert max(overflow) <= 1, overflow
