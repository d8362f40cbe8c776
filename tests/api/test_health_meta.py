"""`/api/v1/health` (public) and `/api/v1/meta/enums`."""

from __future__ import annotations

import pytest

from civicshield import __version__
from civicshield.core import ConfigError, Role, Sector, Severity, Tlp
from civicshield.runtime import Runtime
from tests.api.conftest import Caller, TestClient


def test_health_is_public(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__, "database": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_health_is_a_503_problem_when_the_database_is_down(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise ConfigError("cannot connect to the database postgresql://db.internal/cs: refused")

    monkeypatch.setattr(runtime.db, "check_connection", down)
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == "the database cannot be reached"
    assert "db.internal" not in response.text  # a public route never shows the reason


def test_enums_carry_value_label_and_colour(client: TestClient, viewer_caller: Caller) -> None:
    enums = client.get("/api/v1/meta/enums", headers=viewer_caller.headers).json()
    assert set(enums) == {"severity", "tlp", "sector", "role"}
    for key, enum in (("severity", Severity), ("tlp", Tlp), ("sector", Sector), ("role", Role)):
        assert [m["value"] for m in enums[key]] == [m.value for m in enum]
    assert enums["severity"][-1] == {
        "value": "critical",
        "label": "Critical",
        "colour": "sev-critical",
    }
    assert {"value": "amber+strict", "label": "TLP:AMBER+STRICT", "colour": "tlp-amber"} in (
        enums["tlp"]
    )
