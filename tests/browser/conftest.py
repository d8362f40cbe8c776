"""Browser test fixtures: Debian's Chromium through Playwright, against a live uvicorn server.

The server's runtime uses the system clock (an authenticator code in a real browser follows
real time). Chromium is started once per session; every test gets a fresh context (cookies).
If the browser cannot start, the tests fail under CI and are skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from civicshield.core import Role, Sector
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from tests.conftest import PASSWORD, make_settings, make_user
from tests.harness import LiveServer, require_or_skip
from tests.harness.smtp import SmtpServer
from tests.integration.web.support import compile_catalogs

VENDOR = Path(__file__).resolve().parent / "vendor"
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str | None:
    """The real binary first: Debian's /usr/bin/chromium wrapper may print shell warnings."""
    for candidate in (
        os.environ.get("CIVICSHIELD_CHROMIUM"),
        "/usr/lib/chromium/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        require_or_skip(RuntimeError("no chromium binary found (apt install chromium)"), "Chromium")
    try:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
    except Exception as exc:
        require_or_skip(exc, "Playwright")
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
    except Exception as exc:
        playwright.stop()
        require_or_skip(exc, "Chromium")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A real local SMTP server the live server sends to (legal notices, reminders)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def live_runtime(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Runtime]:
    compile_catalogs()
    # One browser from one address logs in as many users within a minute: lift the per-address
    # login limit (its own tests cover it) so the suite's size does not decide who gets in.
    settings = make_settings(
        tmp_path_factory.mktemp("browser") / "var",
        login_ip_limit_per_minute=10_000,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_security="none",
        mail_from="csirt@ciudad-demo.example",
    )
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings)  # system clock: TOTP codes follow real time
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def live(live_runtime: Runtime) -> Iterator[LiveServer]:
    from civicshield.app import create_app

    server = LiveServer(create_app(runtime=live_runtime)).start()
    yield server
    server.stop()


@pytest.fixture
def new_page(browser: Any, live: LiveServer) -> Iterator[Callable[..., Any]]:
    """`new_page(**context_options)`: a page in a fresh context (own cookies)."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(base_url=live.url, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    return new_page()


@pytest.fixture
def user_factory(live_runtime: Runtime, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Create a user with a name unique to this test; return the username."""
    counter = iter(range(100))

    def make(role: Role = Role.ANALYST) -> str:
        base = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower().removeprefix("test_"))
        name = f"{base.strip('-')[:50]}-{next(counter)}"
        sectors = [Sector.WATER] if role is Role.SECTOR_OPERATOR else None
        make_user(live_runtime, name, role, sectors=sectors)
        return name

    return make


def login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_test_id("field-username").fill(username)
    page.get_by_test_id("field-password").fill(password)
    with page.expect_navigation():
        page.get_by_test_id("login-submit").click()


def axe_script() -> Path:
    manifest = json.loads((VENDOR / "manifest.json").read_text(encoding="utf-8"))
    return VENDOR / manifest["axe"]["file"]
