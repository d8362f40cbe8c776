"""Helpers for the sharing tests: STIX objects with a TLP, a policy from YAML, the validator."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from stix2validator import validate_string  # type: ignore[import-untyped]

from civicshield.core import Tlp
from civicshield.intel.sharing import SharingPolicy, load_policy
from civicshield.intel.tlp import marking_id
from tests.conftest import make_settings

T0 = "2026-11-01T00:00:00.000Z"


def obj(kind: str, tlp: Tlp | None = Tlp.GREEN, **props: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "spec_version": "2.1",
        "id": f"{kind}--{uuid.uuid4()}",
    }
    if kind not in ("ipv4-addr", "ipv6-addr", "email-addr", "user-account", "domain-name"):
        body |= {"created": T0, "modified": T0}
    if tlp is not None:
        body["object_marking_refs"] = [marking_id(tlp)]
    return body | props


def indicator(pattern: str, tlp: Tlp | None = Tlp.GREEN, **props: Any) -> dict[str, Any]:
    return obj(
        "indicator",
        tlp,
        pattern=pattern,
        pattern_type="stix",
        valid_from=T0,
        name="Kraken C2",
        **props,
    )


def policy(tmp_path: Path, override: str | None = None) -> SharingPolicy:
    data = tmp_path / "var"
    data.mkdir(exist_ok=True)
    if override is not None:
        (data / "sharing.yaml").write_text(override, encoding="utf-8")
    return load_policy(make_settings(data))


def assert_valid_bundle(bundle: dict[str, Any]) -> None:
    """stix2-validator 3.2.0 accepts every object of the bundle (warnings allowed)."""
    result = validate_string(json.dumps(bundle))
    assert result.is_valid, [str(e) for e in result.errors]
