"""Error pages (translated, in the layout, no stack traces), security headers, and no inline
script or style anywhere (the CSP would block it)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from civicshield import accounts
from civicshield.core import Settings
from tests.conftest import make_settings
from tests.integration.web.support import post_form

PAGES = [
    "/",
    "/admin/users",
    "/admin/users/new",
    "/admin/users/1",
    "/admin/roles",
    "/tokens",
    "/audit",
    "/jobs",
    "/jobs?status=failed",
    "/profile",
    "/no-such-page",
]


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url=db_url, max_body_bytes=4096)


class InlineCode(HTMLParser):
    """Collects what a strict CSP refuses: inline scripts, style attributes, on* handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        if "style" in names:
            self.problems.append(f"style= on <{tag}>")
        self.problems.extend(f"{n}= on <{tag}>" for n in names if n.startswith("on"))


def test_security_headers_and_csp(admin_client: Any) -> None:
    response = admin_client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


def test_no_inline_code_on_any_page(admin_client: Any) -> None:
    for path in [*PAGES, "/login"]:
        parser = InlineCode()
        parser.feed(admin_client.get(path).text)
        assert not parser.problems, (path, parser.problems)


def test_every_page_has_one_h1_landmarks_and_a_skip_link(admin_client: Any) -> None:
    for path in PAGES:
        text = admin_client.get(path).text
        assert text.count("<h1") == 1, path
        assert '<main id="main"' in text and "<header" in text and "<footer" in text, path
        assert 'class="skip-link" href="#main"' in text, path


def test_vendored_htmx_is_loaded_with_integrity(admin_client: Any) -> None:
    text = admin_client.get("/").text
    assert 'src="/static/vendor/htmx-' in text
    assert 'integrity="sha384-' in text and 'crossorigin="anonymous"' in text
    assert admin_client.get("/static/app.css").status_code == 200


def test_404_page(client: Any) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Page not found" in response.text
    assert 'data-testid="error-login"' in response.text


def test_405_page(admin_client: Any) -> None:
    response = admin_client.put("/profile")
    assert response.status_code == 405
    assert "Method not allowed" in response.text and "allow" in response.headers


def test_422_page_for_a_bad_address(admin_client: Any) -> None:
    response = admin_client.get("/admin/users/not-a-number")
    assert response.status_code == 422
    assert "Invalid request" in response.text


def test_413_page(admin_client: Any) -> None:
    page = admin_client.get("/profile")
    assert page.status_code == 200
    response = admin_client.post(
        "/profile",
        content=b"x" * 5000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "Request too large" in response.text and "<h1" in response.text


def test_429_page_has_retry_after(client: Any) -> None:
    from starlette.requests import Request

    from civicshield.core import RateLimited
    from civicshield.web import error_response

    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/x",
            "headers": [],
            "query_string": b"",
            "app": client.app,
            "scheme": "http",
            "server": ("testserver", 80),
        }
    )
    response = error_response(request, RateLimited("slow down", retry_after=120))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "120"
    assert b"Try again in 2 minutes." in response.body


def test_500_page_hides_the_trace(
    admin_client: Any, new_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    cookies = dict(admin_client.cookies)
    monkeypatch.setattr(accounts, "count_users_by_role", boom)
    browser = new_client(raise_server_exceptions=False)
    browser.cookies.update(cookies)
    response = browser.get("/")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_error_pages_are_translated(client: Any) -> None:
    response = client.get("/no-such-page", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert '<html lang="fr-CA"' in response.text
    assert "Page introuvable" in response.text


def test_csrf_page_after_theme_post_without_token(client: Any) -> None:
    response = client.post("/preferences/theme", data={"theme": "dark"})
    assert response.status_code == 403
    assert "Form expired or forged" in response.text


def test_unknown_theme_is_refused(admin_client: Any) -> None:
    response = post_form(admin_client, "/", "/preferences/theme", {"theme": "purple"})
    assert response.status_code == 422


def test_evidence_uploads_have_their_own_body_limit(admin_client: Any) -> None:
    """The app-wide 4 KiB limit of these settings stops a big form, not an evidence upload
    (its limit is CIVICSHIELD_EVIDENCE_MAX_BYTES); a bigger one is still refused."""
    body = b"x" * 20_000
    headers = {"content-type": "application/x-www-form-urlencoded"}
    passed = admin_client.post("/incidents/999999/evidence", content=body, headers=headers)
    assert passed.status_code != 413  # the route answered (no such case, or no CSRF token)
    api = admin_client.post("/api/v1/incidents/999999/evidence", content=body, headers=headers)
    assert api.status_code != 413
    huge = b"x" * (100 * 1024 * 1024 + 70_000)
    refused = admin_client.post("/api/v1/incidents/1/evidence", content=huge, headers=headers)
    assert refused.status_code == 413 and "104923136 bytes" in refused.text
