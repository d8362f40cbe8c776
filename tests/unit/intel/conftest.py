"""Fixtures for the intel tests: the shared samples (skipped with the reason when absent) and
small STIX builders."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA

INTEL = SHARED_DATA / "intel"


def shared(relative: str) -> Path:
    path = INTEL / relative
    if not path.exists():
        pytest.skip(f"shared intel sample {relative} is absent (../shared/data/intel)")
    return path


def load(relative: str) -> Any:
    return json.loads(shared(relative).read_text(encoding="utf-8"))


def indicator(
    pattern: str,
    *,
    ident: str | None = None,
    modified: str = "2026-11-01T00:00:00.000Z",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ident or f"indicator--{uuid.uuid4()}",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": modified,
        "valid_from": "2026-11-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        **extra,
    }


def bundle(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
