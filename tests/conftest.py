"""Shared fixtures: settings in a temporary data dir, a migrated database (SQLite, or a real
PostgreSQL the harness starts), a runtime with a frozen clock, the app and its test client."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from civicshield import accounts
from civicshield.accounts import Principal, UserCreate
from civicshield.core import SYSTEM, FrozenClock, Role, Sector, Settings, load_settings
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime

hypothesis_settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile("dev", max_examples=30, deadline=None)
# `make fuzz`: long runs of the parsers' property and fuzz tests (never in CI).
hypothesis_settings.register_profile(
    "fuzz",
    max_examples=20_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PASSWORD = "Correct-Horse-Battery-9"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "data_dir": data_dir,
        "secret_key": "test-secret-key-0123456789abcdef",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8,
        "worker_in_process": False,
        "feeds_path": SHARED_DATA if SHARED_DATA.is_dir() else None,
        # CivicShield's own rule pack is left out so rule counts are the tests' own trees;
        # the tests of the pack and of continuous detection turn it on.
        "rule_pack_enabled": False,
        # Likewise the segmentation policy: its own tests turn it on.
        "segmentation_enabled": False,
    }
    values.update(overrides)
    return load_settings(**values)


test_settings = make_settings  # older name; kept out of collection below
test_settings.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    from tests.harness import PostgresServer, require_or_skip

    server = PostgresServer()
    try:
        server.start()
    except RuntimeError as exc:
        require_or_skip(exc, "PostgreSQL server")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite by default; integration tests parametrise with `any_db_url` for both."""
    return f"sqlite:///{tmp_path / 'var' / 'civicshield.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        (tmp_path / "var").mkdir(exist_ok=True)
        yield f"sqlite:///{tmp_path / 'var' / 'civicshield.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = f"t_{uuid.uuid4().hex[:12]}"
    url: str = server.create_database(name)  # type: ignore[attr-defined]
    yield url
    server.drop_database(name)  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url=db_url)


@pytest.fixture
def runtime(settings: Settings, clock: FrozenClock) -> Iterator[Runtime]:
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=clock)
    yield rt
    rt.close()


def make_user(
    rt: Runtime,
    username: str,
    role: Role = Role.ANALYST,
    *,
    password: str = PASSWORD,
    sectors: list[Sector] | None = None,
) -> accounts.UserRead:
    with rt.session() as session:
        return accounts.create_user(
            session,
            UserCreate(username=username, password=password, role=role, sectors=sectors or []),
            actor=SYSTEM,
            clock=rt.clock,
            config=rt.accounts,
        )


def principal_of(rt: Runtime, user_id: int) -> Principal:
    from civicshield.accounts.models import User

    with rt.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        return accounts.principal_for_user(user)


@pytest.fixture
def admin(runtime: Runtime) -> accounts.UserRead:
    return make_user(runtime, "admin", Role.ADMIN)


@pytest.fixture
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    from civicshield.app import create_app

    return create_app(runtime=runtime)


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def runtime_pg(postgres_server: object, tmp_path: Path, clock: FrozenClock) -> Iterator[Runtime]:
    """A runtime on a fresh database of the harness's PostgreSQL (row locks, races); mark the
    test `postgres`."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url: str = postgres_server.create_database(name)  # type: ignore[attr-defined]
    upgrade(url)
    rt = build_runtime(make_settings(tmp_path / "var", database_url=url), clock=clock)
    yield rt
    rt.close()
    postgres_server.drop_database(name)  # type: ignore[attr-defined]


@pytest.fixture
def runtime_any(any_db_url: str, tmp_path: Path, clock: FrozenClock) -> Iterator[Runtime]:
    """A runtime on SQLite and, as a second parameter, on the harness's PostgreSQL."""
    upgrade(any_db_url)
    rt = build_runtime(make_settings(tmp_path / "var", database_url=any_db_url), clock=clock)
    yield rt
    rt.close()
