"""Pages are for people: an API token never opens them (it is a machine credential)."""

from __future__ import annotations

from typing import Any

from civicshield import accounts
from civicshield.accounts import Permission, TokenCreate
from civicshield.core import SYSTEM
from civicshield.runtime import Runtime


def test_bearer_token_gets_the_login_page_not_the_dashboard(
    client: Any, runtime: Runtime, admin: accounts.UserRead
) -> None:
    with runtime.session() as s:
        token = accounts.create_token(
            s,
            TokenCreate(name="siem", scopes=[Permission.DASHBOARD_VIEW]),
            owner_id=admin.id,
            actor=SYSTEM,
            clock=runtime.clock,
        )
    headers = {"Authorization": f"Bearer {token.token}"}
    page = client.get("/", headers=headers, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")
    assert client.get("/api/v1/meta/enums", headers=headers).status_code == 200
