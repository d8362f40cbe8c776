"""axe-core finds no serious or critical accessibility violation on any page, in the light
and the dark theme (colour contrast included).

axe is injected as a script, which the strict CSP would refuse, so only these contexts bypass
the CSP; every other browser test runs under the real policy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from civicshield import accounts, intel, jobs
from civicshield.core import SYSTEM, Role
from civicshield.intel import sharing
from civicshield.intel.demo import load_demo_intel
from civicshield.runtime import Runtime
from tests.browser.conftest import axe_script, login

pytestmark = pytest.mark.browser

RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => `${v.id} (${v.impact}): ` +
                  v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


def _audit(page: Any, label: str, found: dict[str, list[str]]) -> None:
    page.add_script_tag(path=str(axe_script()))
    violations = page.evaluate(RUN_AXE)
    if violations:
        found[label] = violations


def _with_totp(runtime: Runtime, username: str) -> None:
    with runtime.session() as session:
        user = accounts.get_user_by_username(session, username)
        enrolment = accounts.begin_totp(session, user.id, config=runtime.accounts)
        accounts.confirm_totp(
            session,
            user.id,
            secret=enrolment.secret,
            code=pyotp.TOTP(enrolment.secret).now(),
            actor=SYSTEM,
            clock=runtime.clock,
        )


def _indicator(runtime: Runtime) -> str:
    """One stored indicator with a version, a sighting and provenance (its detail page)."""
    ident, stamp = "indicator--4f7e3c1a-1b2c-4d5e-8f90-a1b2c3d4e5f6", "2026-11-01T00:00:00.000Z"
    bundle = {"type": "bundle", "id": "bundle--0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": ident, "created": stamp,
         "modified": stamp, "valid_from": stamp, "name": "Camera botnet C2", "pattern_type": "stix",
         "pattern": "[domain-name:value = 'kraken-iot.example']", "labels": ["botnet"],
         "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]},
        {"type": "sighting", "spec_version": "2.1", "created": stamp, "modified": stamp,
         "id": "sighting--6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "sighting_of_ref": ident,
         "count": 2, "last_seen": stamp},
    ]}  # fmt: skip
    with runtime.session() as session:
        intel.import_stix(session, bundle, location="axe.json", actor=SYSTEM, clock=runtime.clock)
    return ident


def _peers(runtime: Runtime) -> int:
    """The demo's peer cities (a peer, a subscription, publications); the one awaiting approval."""
    with runtime.session() as session:
        load_demo_intel(session, runtime.settings, clock=runtime.clock)
        waiting, _ = sharing.list_publications(session, status="awaiting_approval", limit=1)
    return waiting[0].id


def _job(runtime: Runtime) -> int:
    with runtime.session() as session:
        return jobs.enqueue(session, "audit.verify", registry=runtime.jobs, clock=runtime.clock).id


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_violations(
    new_page: Callable[..., Any], user_factory: Any, live_runtime: Runtime, scheme: str
) -> None:
    found: dict[str, list[str]] = {}
    page = new_page(bypass_csp=True, color_scheme=scheme)
    page.goto("/login")
    _audit(page, "login", found)
    page.goto("/no-such-page")
    _audit(page, "404", found)

    two_factor = user_factory(Role.VIEWER)
    _with_totp(live_runtime, two_factor)
    login(page, two_factor)
    _audit(page, "login/2fa", found)

    page = new_page(bypass_csp=True, color_scheme=scheme)
    admin = user_factory(Role.ADMIN)
    login(page, admin)
    job_id = _job(live_runtime)
    indicator_id = _indicator(live_runtime)
    publication_id = _peers(live_runtime)
    for path in [
        "/",
        "/admin/users",
        "/admin/users/new",
        "/admin/roles",
        "/tokens",
        "/audit",
        "/jobs",
        f"/jobs/{job_id}",
        "/profile",
        "/intel",
        "/intel/feeds",
        f"/intel/indicators/{indicator_id}",
        "/intel/peers",
        "/intel/publish",
        f"/intel/publish/{publication_id}",
    ]:
        page.goto(path)
        _audit(page, path, found)
    page.goto("/admin/users?q=" + admin)
    with page.expect_navigation():
        page.get_by_test_id(f"user-link-{admin}").click()
    _audit(page, "user detail", found)
    page.goto("/admin/users/new")
    with page.expect_navigation():
        page.get_by_test_id("user-create-submit").click()  # every field error shown
    _audit(page, "new user with errors", found)
    page.goto("/profile")
    with page.expect_navigation():
        page.get_by_test_id("totp-begin").click()
    _audit(page, "totp enrolment", found)

    page = new_page(bypass_csp=True, color_scheme=scheme)
    login(page, user_factory(Role.ANALYST))
    page.goto("/admin/users")
    _audit(page, "403", found)

    assert not found, f"{scheme} theme: {found}"
