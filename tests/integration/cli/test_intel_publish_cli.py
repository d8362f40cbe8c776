"""`civicshield intel publish|publications|policy`: forbidden objects refused or stripped,
the approval step for a new peer, the effective policy (with a city override)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from civicshield import intel
from civicshield.core import Tlp
from civicshield.intel import peers, taxii
from civicshield.intel.models import IntelPeer, IntelSubscription
from civicshield.intel.tlp import marking_id

from .conftest import Cli

COLLECTION = "3d0c7b71-6a3e-4bd2-9f0b-7f1c2a9d4e55"
T0 = "2026-11-01T00:00:00.000Z"


def _indicator(pattern: str, tlp: Tlp, **props: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "valid_from": T0,
        "pattern": pattern,
        "pattern_type": "stix",
        "object_marking_refs": [marking_id(tlp)],
        **props,
    }


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Fake delivery: a multi-city collection and a peer client that keep what they got."""
    got: list[dict[str, Any]] = []

    def add(
        session: object, uuid_: str, objects: list[dict[str, Any]], **_: object
    ) -> dict[str, int]:
        got.extend(objects)
        return {"success_count": len(objects)}

    def push(
        session: object, sub: int, objects: list[dict[str, Any]], **_: object
    ) -> dict[str, int]:
        got.extend(objects)
        return {"success_count": len(objects)}

    def collection(session: object, uuid_: str) -> SimpleNamespace:
        return SimpleNamespace(multi_city=True, tlp=None)

    monkeypatch.setattr(taxii, "get_collection", collection, raising=False)
    monkeypatch.setattr(taxii, "add_objects", add, raising=False)
    monkeypatch.setattr(peers, "push_objects", push, raising=False)
    return got


def _load(cli: Cli, tmp_path: Path, *objects: dict[str, Any]) -> None:
    path = tmp_path / f"{uuid.uuid4()}.json"
    path.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)})
    )
    assert cli.json("intel", "import", str(path))["stored"] == len(objects)


def test_forbidden_objects_refused_and_personal_data_stripped(
    initialised: Cli, tmp_path: Path, sent: list[dict[str, Any]]
) -> None:
    cli = initialised
    red = _indicator("[ipv4-addr:value = '45.33.32.156']", Tlp.RED)
    strict = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.AMBER_STRICT)
    leaky = _indicator(
        "[ipv4-addr:value = '172.16.4.4']",
        Tlp.GREEN,
        name="C2 seen by Sr. Pedro Páramo",
        description="write to soc@ciudad.example or call +52 55 8765 4321",
    )
    _load(cli, tmp_path, red, strict, leaky)
    refused = cli("intel", "publish", red["id"], strict["id"], "--collection", COLLECTION, "--yes")
    assert refused.exit_code == 1 and "held back every object" in refused.stderr
    assert "tlp-multi-city" in refused.stdout and sent == []
    done = cli.json("intel", "publish", leaky["id"], red["id"], "--collection", COLLECTION, "--yes")
    assert done["status"] == "published"
    assert [r["object_id"] for r in done["refusals"]] == [red["id"]]
    [shared] = [o for o in sent if o["type"] == "indicator"]
    assert shared["id"] == leaky["id"]
    for secret in ("172.16.4.4", "Pedro", "soc@ciudad.example", "8765 4321"):
        assert secret not in json.dumps(shared)
    assert shared["name"] == "C2 seen by [name redacted]"
    listed = cli.json("intel", "publications", "list")
    assert [p["status"] for p in listed["items"]] == ["published", "refused"]
    text = cli.ok("intel", "publications", "show", str(done["id"])).stdout
    assert "pseudonymised" in text and "tlp-multi-city" in text


def test_new_peer_needs_approval_by_another_person(
    initialised: Cli, tmp_path: Path, sent: list[dict[str, Any]]
) -> None:
    cli = initialised
    good = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.GREEN)
    _load(cli, tmp_path, good)
    rt = cli.runtime()
    with rt.session() as s:
        peer = IntelPeer(
            name="Vecina", discovery_url="https://v.example/taxii2/", created_at=rt.clock.now()
        )
        s.add(peer)
        s.flush()
        s.add(
            IntelSubscription(
                peer_id=peer.id,
                api_root_url="https://v.example/a/",
                collection_id="c1",
                can_write=True,
                created_at=rt.clock.now(),
            )
        )
    rt.close()
    waiting = cli("intel", "publish", good["id"], "--subscription", "1", "--yes")
    assert waiting.exit_code == 1 and "waits for approval" in waiting.stderr and sent == []
    same = cli("intel", "publications", "approve", "1")
    assert same.exit_code == 1 and "another person" in same.stderr
    cli.ok("intel", "publications", "approve", "1", env={"USER": "privacy"})
    assert cli.json("intel", "publications", "send", "1")["status"] == "published"
    assert [o["id"] for o in sent if o["type"] == "indicator"] == [good["id"]]
    again = cli("intel", "publications", "send", "1")
    assert again.exit_code == 1 and "only a draft" in again.stderr


def test_policy_show_with_override(initialised: Cli) -> None:
    cli = initialised
    assert "refuse_multi_city_tlp: red, amber+strict" in cli.ok("intel", "policy", "show").stdout
    (cli.data_dir / "sharing.yaml").write_text("internal_networks: [200.57.10.0/24]\n")
    shown = cli.json("intel", "policy", "show")
    assert shown["internal_networks"] == ["200.57.10.0/24"]
    (cli.data_dir / "sharing.yaml").write_text("bogus: 1\n")
    bad = cli("intel", "policy", "show")
    assert bad.exit_code == 1 and "unknown key 'bogus'" in bad.stderr
    both = cli("intel", "publish", "indicator--x")
    assert both.exit_code == 1 and "exactly one of --collection" in both.stderr


def test_push_our_sightings_to_a_peer(
    initialised: Cli, tmp_path: Path, sent: list[dict[str, Any]]
) -> None:
    cli = initialised
    good = _indicator("[domain-name:value = 'kraken-iot.example']", Tlp.GREEN)
    _load(cli, tmp_path, good)
    empty = cli("intel", "push", "1", "--sightings")
    assert empty.exit_code == 1 and "nothing to push" in empty.stderr
    rt = cli.runtime()
    with rt.session() as s:
        peer = IntelPeer(
            name="Vecina", discovery_url="https://v.example/taxii2/", created_at=rt.clock.now()
        )
        s.add(peer)
        s.flush()
        s.add(
            IntelSubscription(
                peer_id=peer.id, api_root_url="https://v.example/a/", collection_id="c1",
                can_write=True, created_at=rt.clock.now(),
            )
        )  # fmt: skip
        hits = pl.DataFrame(
            {"rule_id": [f"intel/{good['id']}"], "@timestamp": [rt.clock.now()], "_entry": ["e1"]}
        )
        assert intel.record_sightings(s, hits, now=rt.clock.now(), settings=rt.settings) == 1
    rt.close()
    waiting = cli("intel", "push", "1", "--sightings", "--yes")
    assert waiting.exit_code == 1 and "waits for approval" in waiting.stderr and sent == []
    cli.ok("intel", "publications", "approve", "1", env={"USER": "privacy"})
    assert cli.json("intel", "publications", "send", "1")["status"] == "published"
    [sighting] = [o for o in sent if o["type"] == "sighting"]
    assert sighting["sighting_of_ref"] == good["id"] and sighting["count"] == 1
    assert not [k for k in sighting if k.startswith("x_civicshield")]
