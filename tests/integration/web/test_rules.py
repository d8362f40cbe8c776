"""The rule catalogue pages: build it when missing, the list with filters and counts, one
rule with its YAML (escaped), and who may see or rebuild it."""

from __future__ import annotations

import html
from typing import Any

import pytest

from civicshield import jobs
from civicshield.core import Role
from civicshield.detect import catalog
from civicshield.runtime import Runtime
from tests.catalog_rules import FILTER, HOSTILE, LOW, PS, install_rules
from tests.integration.web.support import csrf_from, post_form


@pytest.fixture
def rules(runtime: Runtime) -> None:
    install_rules(runtime.settings)


@pytest.fixture
def built(rules: None, runtime: Runtime) -> catalog.Catalog:
    return catalog.build_catalog(runtime.settings)


def test_build_from_the_page_then_browse(rules: None, admin_client: Any, runtime: Runtime) -> None:
    page = admin_client.get("/rules").text
    assert 'data-testid="rules-missing"' in page and 'data-testid="rules-build"' in page
    queued = post_form(admin_client, "/rules", "/rules/catalog")
    assert queued.status_code == 303 and queued.headers["location"] == "/rules"
    building = admin_client.get("/rules").text
    assert 'data-testid="rules-building"' in building
    assert "The rule catalogue is being built. Reload this page in a minute." in building
    assert 'data-testid="rules-build"' not in building
    jobs.run_next(
        runtime.session,
        registry=runtime.jobs,
        clock=runtime.clock,
        worker="test",
        services=runtime.services,
    )
    catalog._MEMO.clear()  # as another process would
    listing = admin_client.get("/rules").text
    assert 'data-testid="rules-table"' in listing
    for rule_id in (PS, LOW, FILTER, HOSTILE):
        assert f'data-testid="rule-row-{rule_id}"' in listing
    assert "filter rules are not supported yet" in listing
    assert 'aria-current="page"' in listing and 'data-testid="nav-rules"' in listing


def test_filters_counts_and_pages(built: object, admin_client: Any) -> None:
    page = admin_client.get("/rules").text
    assert "4 rules, 3 the engine runs" in page
    assert 'data-testid="count-critical"' in page
    high = admin_client.get("/rules?level=high").text
    assert f"rule-row-{PS}" in high and f"rule-row-{LOW}" not in high
    assert "2 rules, 2 the engine runs" in high
    assert 'value="high" selected' in high
    not_run = admin_client.get("/rules?runnable=no").text
    assert f"rule-row-{FILTER}" in not_run and f"rule-row-{PS}" not in not_run
    by_technique = admin_client.get("/rules?technique=T1082").text
    assert f"rule-row-{LOW}" in by_technique and f"rule-row-{PS}" not in by_technique
    assert 'data-testid="rules-empty"' in admin_client.get("/rules?q=nothing-like-it").text
    # nonsense values are ignored, not errors
    assert admin_client.get("/rules?level=severe&runnable=maybe&kind=x").status_code == 200
    fragment = admin_client.get(
        "/rules?folder=windows/process_creation",
        headers={"HX-Request": "true", "HX-Target": "rules-table"},
    ).text
    assert "<html" not in fragment and f"rule-row-{LOW}" in fragment


def test_detail_shows_the_yaml_escaped(built: object, admin_client: Any) -> None:
    page = admin_client.get(f"/rules/{PS}").text
    assert 'data-testid="rule-yaml"' in page and f"id: {PS}" in page
    assert 'href="https://attack.mitre.org/techniques/T1059/001/"' in page
    assert 'data-testid="rule-author">CivicShield tests<' in page

    hostile = admin_client.get(f"/rules/{HOSTILE}").text
    assert "<script>alert(1)</script>" not in hostile
    assert "<b>Mallory</b>" not in hostile
    assert html.escape("<script>alert(1)</script>", quote=False) in hostile
    assert "&lt;b&gt;Mallory&lt;/b&gt; &amp;amp; co" not in hostile  # escaped once, not twice
    assert "&lt;b&gt;Mallory&lt;/b&gt; &amp; co" in hostile

    no_author = admin_client.get(f"/rules/{LOW}").text
    assert 'data-testid="rule-author">Unknown<' in no_author
    assert admin_client.get("/rules/no-such-rule").status_code == 404


def test_detail_when_the_file_cannot_be_shown(
    built: object, admin_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "MAX_SOURCE_BYTES", 10)
    page = admin_client.get(f"/rules/{PS}").text
    assert 'data-testid="rule-yaml-missing"' in page and 'data-testid="rule-yaml"' not in page


def test_rebuild_needs_csrf(built: object, admin_client: Any) -> None:
    page = admin_client.get("/rules").text
    assert 'data-testid="rules-rebuild"' in page
    forged = admin_client.post("/rules/catalog", data={}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = admin_client.post(
        "/rules/catalog", data={"csrf_token": csrf_from(page)[::-1]}, follow_redirects=False
    )
    assert wrong.status_code == 403


def test_who_may_see_and_rebuild(built: object, as_role: Any) -> None:
    analyst = as_role(Role.ANALYST)
    page = analyst.get("/rules").text
    assert 'data-testid="rules-table"' in page and 'data-testid="rules-rebuild"' not in page
    assert 'data-testid="nav-rules"' in page
    assert post_form(analyst, "/rules", "/rules/catalog").status_code == 403
    assert as_role(Role.RESPONDER).get(f"/rules/{PS}").status_code == 200
    viewer = as_role(Role.VIEWER)
    assert viewer.get("/rules").status_code == 403
    assert 'data-testid="nav-rules"' not in viewer.get("/").text
    assert as_role(Role.PRIVACY_OFFICER).get("/rules").status_code == 403


def test_without_the_catalogue_a_reader_is_told_to_ask(rules: None, as_role: Any) -> None:
    page = as_role(Role.ANALYST).get("/rules").text
    assert "Ask an administrator to build it." in page and 'data-testid="rules-build"' not in page


@pytest.mark.parametrize(
    ("language", "heading", "runs"),
    [("es-MX", "Reglas de detección", "Se ejecuta"), ("fr-CA", "Règles de détection", "Moteur")],
)
def test_spanish_and_french(
    built: object, admin_client: Any, language: str, heading: str, runs: str
) -> None:
    switched = post_form(admin_client, "/rules", "/preferences/language", {"language": language})
    assert switched.status_code == 303
    page = admin_client.get("/rules").text
    assert f'<html lang="{language}"' in page
    assert heading in page and html.escape(runs) in page
