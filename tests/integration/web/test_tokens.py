"""API token pages: create (secret shown once), scopes within the role, revoke."""

from __future__ import annotations

from typing import Any

from civicshield import accounts
from civicshield.core import Role
from civicshield.runtime import Runtime
from tests.integration.web.support import csrf_from, post_form


def _create(client: Any, **fields: Any) -> Any:
    data = {"name": "backup script", "scopes": ["dashboard:view"], "expires": "30", **fields}
    return post_form(client, "/tokens", "/tokens", data)


def test_create_shows_the_token_once_and_it_works(as_role: Any, runtime: Runtime) -> None:
    analyst = as_role(Role.ANALYST, "ana")
    page = analyst.get("/tokens").text
    assert 'data-testid="scope-audit:read"' in page
    assert 'data-testid="scope-users:manage"' not in page  # beyond the analyst's role
    created = _create(analyst, scopes=["dashboard:view", "audit:read"])
    assert created.status_code == 200
    secret = created.text.split('data-testid="token-secret">')[1].split("<")[0]
    assert secret.startswith("cs_")
    listing = analyst.get("/tokens").text
    assert "backup script" in listing and secret not in listing
    with runtime.session() as session:
        principal = accounts.principal_for_token(session, secret, ip=None, clock=runtime.clock)
    assert principal is not None and principal.username == "ana"
    assert {p.value for p in principal.permissions} == {"dashboard:view", "audit:read"}


def test_scopes_beyond_the_role_are_refused(as_role: Any) -> None:
    analyst = as_role(Role.ANALYST, "ana")
    response = _create(analyst, scopes=["users:manage"])
    assert response.status_code == 422
    assert "Choose only scopes your role allows." in response.text
    empty = _create(analyst, scopes=[], name="")
    assert empty.status_code == 422
    assert 'data-testid="error-name"' in empty.text
    assert 'data-testid="error-scopes"' in empty.text


def test_revoke_with_htmx_swaps_the_row(as_role: Any, runtime: Runtime) -> None:
    analyst = as_role(Role.ANALYST, "ana")
    _create(analyst)
    with runtime.session() as session:
        token = accounts.list_tokens(session).items[0]
    page = analyst.get("/tokens").text
    response = analyst.post(
        f"/tokens/{token.id}/revoke",
        data={"csrf_token": csrf_from(page)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith("<tr")
    assert f'data-testid="token-revoked-{token.id}"' in response.text


def test_revoke_as_plain_form_and_others_tokens(as_role: Any, runtime: Runtime) -> None:
    ana, bo = as_role(Role.ANALYST, "ana"), as_role(Role.ANALYST, "bo")
    _create(ana)
    with runtime.session() as session:
        token = accounts.list_tokens(session).items[0]
    stolen = post_form(bo, "/tokens", f"/tokens/{token.id}/revoke")
    assert stolen.status_code == 404  # someone else's token does not exist for bo
    revoked = post_form(ana, "/tokens", f"/tokens/{token.id}/revoke")
    assert revoked.status_code == 303
    assert "The token was revoked." in ana.get("/tokens").text


def test_admin_sees_everyones_tokens_with_owner(as_role: Any, admin_client: Any) -> None:
    _create(as_role(Role.ANALYST, "ana"), name="ana's script")
    page = admin_client.get("/tokens").text
    assert "ana&#39;s script" in page and "<td>ana</td>" in page
