"""API test helpers: API tokens and signed-in browser sessions for users of each role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicshield import accounts
from civicshield.accounts import Permission
from civicshield.core import SYSTEM, Role
from civicshield.http import SESSION_COOKIE
from civicshield.runtime import Runtime
from tests.conftest import PASSWORD, make_user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_token(
    rt: Runtime,
    user_id: int,
    scopes: list[Permission] | None = None,
    *,
    name: str = "test",
    expires_in_days: int | None = 90,
) -> str:
    """A raw API token for `user_id`, created as the system (all of the role's scopes by
    default)."""
    with rt.session() as session:
        if scopes is None:
            user = accounts.get_user(session, user_id)
            scopes = sorted(accounts.permissions_for(user.role))
        created = accounts.create_token(
            session,
            accounts.TokenCreate(name=name, scopes=scopes, expires_in_days=expires_in_days),
            owner_id=user_id,
            actor=SYSTEM,
            clock=rt.clock,
        )
    return created.token


@dataclass
class Caller:
    """A user with an API token whose scopes are everything the role allows."""

    user: accounts.UserRead
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def caller(rt: Runtime, username: str, role: Role, **kw: Any) -> Caller:
    user = make_user(rt, username, role, **kw)
    return Caller(user=user, token=make_token(rt, user.id))


@pytest.fixture
def admin_caller(runtime: Runtime) -> Caller:
    return caller(runtime, "root", Role.ADMIN)


@pytest.fixture
def viewer_caller(runtime: Runtime) -> Caller:
    return caller(runtime, "vera", Role.VIEWER)


@dataclass
class Browser:
    """A signed-in browser session: the cookie is set on the client; `csrf` is its token."""

    client: TestClient
    csrf: str


def sign_in(client: TestClient, rt: Runtime, username: str, password: str = PASSWORD) -> Browser:
    with rt.session() as session:
        login = accounts.authenticate(
            session,
            username=username,
            password=password,
            ip="testclient",
            clock=rt.clock,
            config=rt.accounts,
        )
        info = accounts.start_session(
            session,
            user_id=login.user_id,
            pending_totp=False,
            ip="testclient",
            user_agent="pytest",
            clock=rt.clock,
            config=rt.accounts,
        )
    client.cookies.set(SESSION_COOKIE, info.token)
    return Browser(client=client, csrf=info.csrf_token)


@pytest.fixture
def quiet_client(app: Any) -> Iterator[TestClient]:
    """A client that returns 500 responses instead of re-raising the server's exception."""
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        yield c
