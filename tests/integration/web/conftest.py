"""Web test fixtures: compiled catalogues and signed-in test clients per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civicshield.core import Role, Sector
from civicshield.runtime import Runtime
from tests.conftest import make_user
from tests.integration.web.support import compile_catalogs, login


@pytest.fixture(scope="session", autouse=True)
def _catalogs() -> None:
    compile_catalogs()


@pytest.fixture
def new_client(app: Any) -> Iterator[Callable[[], Any]]:
    """Make extra browsers (each with its own cookies) against the same app."""
    clients: list[Any] = []

    def make(**kwargs: Any) -> Any:
        client = TestClient(app, base_url="http://testserver", **kwargs)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def as_role(runtime: Runtime, new_client: Callable[..., Any]) -> Callable[..., Any]:
    """`as_role(Role.ANALYST)`: a client signed in as a fresh user with that role."""

    def make(role: Role, username: str | None = None, **kwargs: Any) -> Any:
        name = username or role.value.replace("_", "-")
        sectors = kwargs.pop("sectors", [Sector.WATER] if role is Role.SECTOR_OPERATOR else None)
        make_user(runtime, name, role, sectors=sectors)
        client = new_client(**kwargs)
        response = login(client, name)
        assert response.status_code == 303, response.text
        return client

    return make


@pytest.fixture
def admin_client(as_role: Callable[..., Any]) -> Any:
    return as_role(Role.ADMIN, "admin")
