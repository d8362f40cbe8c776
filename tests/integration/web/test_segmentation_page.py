"""The segmentation page: the policy in force, "Check" with each problem's place, "Save"
refused while there are errors, the preview over stored flows, back to the default; a
responder may check and preview but not save."""

from __future__ import annotations

from typing import Any

from civicshield.core import Role
from civicshield.runtime import Runtime
from tests.api.test_segmentation import POLICY, _flows
from tests.integration.web.support import post_form


def test_check_save_preview_reset(runtime: Runtime, admin_client: Any) -> None:
    page = admin_client.get("/segmentation")
    assert page.status_code == 200
    assert 'data-testid="seg-rule-ot-from-elsewhere"' in page.text
    assert "CivicShield&#39;s default policy" in page.text or "default policy" in page.text

    broken = POLICY.replace("10.20.0.0/16", "10.20.0.1/16")
    checked = post_form(admin_client, "/segmentation", "/segmentation",
                        {"action": "check", "policy": broken})  # fmt: skip
    assert checked.status_code == 422 and "zones.1.cidrs.0" in checked.text
    refused = post_form(admin_client, "/segmentation", "/segmentation",
                        {"action": "save", "policy": broken})  # fmt: skip
    assert refused.status_code == 422 and 'data-testid="seg-error"' in refused.text
    assert "10.20.0.1/16" in refused.text  # the draft is kept in the editor

    saved = post_form(admin_client, "/segmentation", "/segmentation",
                      {"action": "save", "policy": POLICY})  # fmt: skip
    assert saved.status_code == 303 and saved.headers["location"] == "/segmentation?done=saved"
    shown = admin_client.get("/segmentation?done=saved").text
    assert 'data-testid="seg-message"' in shown and 'data-testid="seg-rule-wifi-web"' in shown
    assert 'data-testid="seg-issue-warning"' in shown  # the repeated rule

    _flows(runtime)
    preview = post_form(admin_client, "/segmentation", "/segmentation",
                        {"action": "preview", "policy": POLICY, "days": "7"})  # fmt: skip
    assert preview.status_code == 200
    assert 'data-testid="seg-preview-rule-(default)"' in preview.text
    assert "2 of 3 stored flows" in preview.text

    reset = post_form(admin_client, "/segmentation", "/segmentation", {"action": "reset"})
    assert reset.status_code == 303
    assert 'data-testid="seg-reset"' not in admin_client.get("/segmentation").text


def test_a_responder_checks_but_cannot_save(as_role: Any) -> None:
    client = as_role(Role.RESPONDER)
    page = client.get("/segmentation").text
    assert 'data-testid="seg-save"' not in page and 'data-testid="seg-preview"' in page
    denied = post_form(client, "/segmentation", "/segmentation",
                       {"action": "save", "policy": POLICY})  # fmt: skip
    assert denied.status_code == 403
    viewer = as_role(Role.VIEWER)
    assert viewer.get("/segmentation").status_code == 403
