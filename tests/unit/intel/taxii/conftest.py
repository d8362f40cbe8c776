"""A runtime seeded with the OASIS reference server's fixture (skipped when ../shared is
absent), and small helpers for the TAXII logic tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.orm import Session

from civicshield.intel import taxii
from civicshield.runtime import Runtime
from tests.unit.intel.conftest import load

ROOT = "trustgroup1"
HIGH_VALUE = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"  # 8 object versions
WRITABLE = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"  # read/write, empty
READ_ONLY = "52892447-4d7e-4f70-b94d-d7f22742ff63"
WRITE_ONLY = "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"
SECRET = "64993447-4d7e-4f70-b94d-d7f33742ee63"  # no read, no write
INDICATOR = "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e"  # three versions
MALWARE = "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"  # one STIX 2.0 and one 2.1 version
FIXTURE = "taxii-medallion-fixture/default_data.json"
ADMIN = ("admin", "Password0")


def fixture_data() -> Any:
    return load(FIXTURE)


def seed_medallion(runtime: Runtime) -> Runtime:
    """Seed `runtime` with the shared fixture plus the member admin/Password0."""
    with runtime.session() as session:
        report = taxii.seed(
            session,
            fixture_data(),
            hasher=runtime.accounts.hasher,
            now=runtime.clock.now(),
            users=dict([ADMIN]),
        )
    assert report.problems == []
    return runtime


@pytest.fixture
def seeded(runtime: Runtime) -> Runtime:
    return seed_medallion(runtime)


@contextmanager
def session_of(rt: Runtime) -> Iterator[Session]:
    with rt.session() as session:
        yield session


def member(rt: Runtime, name: str = ADMIN[0], password: str = ADMIN[1]) -> taxii.TaxiiCaller:
    with rt.session() as session:
        caller = taxii.authenticate_member(session, name, password, hasher=rt.accounts.hasher)
    assert caller is not None
    return caller


def query(page_size: int = 100, **params: str) -> taxii.Query:
    names = {"version": "match[version]", "type": "match[type]", "id": "match[id]"}
    names |= {"spec_version": "match[spec_version]"}
    return taxii.parse_query({names.get(k, k): [v] for k, v in params.items()}, page_size=page_size)
