"""The TAXII client against CivicShield's own TAXII 2.1 server: a second city's app served by
uvicorn, set up with `civicshield.intel.taxii` (API root, collection, member and grant).
Probe, subscribe, pull across pages (the peer's page size is small) twice, push then read
back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from civicshield.app import create_app
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.intel import peers
from civicshield.intel.models import IntelProvenance
from civicshield.migrations.runner import upgrade
from civicshield.runtime import Runtime, build_runtime
from tests.conftest import NOW, make_settings
from tests.harness import LiveServer
from tests.unit.intel.conftest import indicator

taxii = pytest.importorskip("civicshield.intel.taxii")

ACTOR = Actor(kind="cli", name="test")
FAST = {"backoff_factor": 0.0}
SECRET = "Peer-Secret-0123456789"


@pytest.fixture
def peer_city(tmp_path: Path, runtime: Runtime) -> Iterator[tuple[Runtime, str, str]]:
    """A second city: its own database and app, one API root with one collection that our
    member `norte` may read and write. Yields (its runtime, its base URL, collection uuid)."""
    settings = make_settings(
        tmp_path / "peer", database_url=f"sqlite:///{tmp_path / 'peer.db'}", taxii_page_size=2
    )
    upgrade(settings.resolved_database_url)
    rt = build_runtime(settings, clock=FrozenClock(NOW))
    now = rt.clock.now()
    with rt.session() as s:
        taxii.create_api_root(s, "trust", "Trust group", now=now, is_default=True)
        col = taxii.create_collection(s, "trust", "Camera botnet", now=now, can_write=True)
        taxii.create_member(
            s, "norte", SECRET, hasher=rt.accounts.hasher, city="Villa Norte",
            api_root_slugs=["trust"], now=now,
        )  # fmt: skip
        taxii.set_grant(s, "norte", col.uuid, can_read=True, can_write=True, now=now)
    with LiveServer(create_app(runtime=rt)) as live:
        yield rt, live.url, col.uuid
    rt.close()


def _ind(n: int) -> dict[str, Any]:
    return indicator(f"[ipv4-addr:value = '203.0.113.{n}']")


def _add_on_peer(rt: Runtime, collection: str, objs: list[dict[str, Any]]) -> None:
    """Added by the peer itself, a minute later (so its date_added is after our last pull)."""
    assert isinstance(rt.clock, FrozenClock)
    rt.clock.advance(timedelta(minutes=1))
    with rt.session() as s:
        taxii.add_objects(s, collection, objs, added_by="peer", now=rt.clock.now())


def test_probe_subscribe_pull_push(runtime: Runtime, peer_city: tuple[Runtime, str, str]) -> None:
    peer_rt, url, collection = peer_city
    data = peers.PeerCreate(
        name="Villa Norte", discovery_url=f"{url}/taxii2/", auth="basic",
        username="norte", secret=SECRET,  # type: ignore[arg-type]
    )  # fmt: skip
    with runtime.session() as s:
        peer = peers.add_peer(s, data, settings=runtime.settings, actor=ACTOR, clock=runtime.clock)
        probed = peers.probe_peer(
            s, peer.id, settings=runtime.settings, clock=runtime.clock, **FAST
        )
    assert probed.last_error == ""
    [root] = probed.last_probe["roots"]
    [col] = root["collections"]
    assert (col["id"], col["can_read"], col["can_write"]) == (collection, True, True)

    with runtime.session() as s:
        sub = peers.subscribe(
            s, peers.SubscriptionCreate(peer_id=peer.id, api_root_url=root["url"],
                                        collection_id=collection),
            settings=runtime.settings, actor=ACTOR, clock=runtime.clock, **FAST,
        )  # fmt: skip
    pushed_objs = [_ind(n) for n in range(5)]
    with runtime.session() as s:
        pushed = peers.push_objects(
            s, sub.id, pushed_objs, settings=runtime.settings, now=runtime.clock.now(),
            poll_seconds=0.0, **FAST,
        )  # fmt: skip
    assert (pushed.status, pushed.success_count) == ("complete", 5), pushed

    with runtime.session() as s:
        first = peers.pull_subscription(
            s, sub.id, settings=runtime.settings, actor=ACTOR, clock=runtime.clock, **FAST
        )
    assert first.ok, first.error
    assert (first.read, first.new) == (5, 5) and first.pages >= 3  # the peer pages by 2
    assert first.added_after

    _add_on_peer(peer_rt, collection, [_ind(9)])
    with runtime.session() as s:
        second = peers.pull_subscription(
            s, sub.id, settings=runtime.settings, actor=ACTOR, clock=runtime.clock, **FAST
        )
    assert (second.ok, second.read, second.new) == (True, 1, 1), second.error
    with runtime.session() as s:
        rows = s.scalars(select(IntelProvenance)).all()
        assert len(rows) == 6
        assert {r.detail["peer"] for r in rows} == {"Villa Norte"}
        assert all(r.detail["collection_url"].endswith(f"/{collection}/") for r in rows)
