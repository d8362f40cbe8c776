"""The TAXII client against a live TAXII 2.1 server (a small one of the tests' own, served by
uvicorn): probe, subscribe, incremental pulls across pages with provenance, a bad object
refused alone, retries on 503, push with a pending status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from civicshield.core.actor import Actor
from civicshield.core.errors import ExternalServiceError
from civicshield.intel import peers
from civicshield.intel.models import IntelProvenance, IntelSource
from civicshield.runtime import Runtime
from tests.harness import LiveServer
from tests.unit.intel.conftest import indicator
from tests.unit.intel.peers.fake_taxii import FakeTaxii

ACTOR = Actor(kind="cli", name="test")
FAST = {"backoff_factor": 0.0}  # retries without waiting between tries


@pytest.fixture
def fake() -> Iterator[tuple[FakeTaxii, str]]:
    server = FakeTaxii()
    server.add_collection("c1")
    server.add_collection("readonly", can_write=False)
    with LiveServer(server.app(), lifespan="off") as live:
        yield server, live.url


def _ind(n: int) -> dict[str, Any]:
    return indicator(f"[ipv4-addr:value = '198.51.100.{n}']")


def _peer(rt: Runtime, url: str, password: str = "peer-secret") -> int:  # noqa: S107
    data = peers.PeerCreate(
        name="Villa Norte", discovery_url=f"{url}/taxii2/", auth="basic",
        username="peer", secret=password,  # type: ignore[arg-type]
    )  # fmt: skip
    with rt.session() as s:
        return peers.add_peer(s, data, settings=rt.settings, actor=ACTOR, clock=rt.clock).id


def _subscribe(rt: Runtime, peer_id: int, url: str, cid: str = "c1") -> int:
    data = peers.SubscriptionCreate(peer_id=peer_id, api_root_url=f"{url}/api1/", collection_id=cid)
    with rt.session() as s:
        return peers.subscribe(
            s, data, settings=rt.settings, actor=ACTOR, clock=rt.clock, **FAST
        ).id


def _pull(rt: Runtime, sub_id: int, **kw: Any) -> peers.PullResult:
    with rt.session() as s:
        return peers.pull_subscription(
            s, sub_id, settings=rt.settings, actor=ACTOR, clock=rt.clock, **FAST, **kw
        )


def test_probe_reports_roots_collections_and_permissions(
    runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    _, url = fake
    auth = peers.PeerAuth(kind="basic", username="peer", secret="peer-secret")
    result = peers.probe(f"{url}/taxii2/", auth, settings=runtime.settings, **FAST)
    assert result.title == "Fake peer"
    [root] = result.roots
    assert root.url == f"{url}/api1/" and root.title == "Trust group"
    perms = {c.id: (c.can_read, c.can_write) for c in root.collections}
    assert perms == {"c1": (True, True), "readonly": (True, False)}


def test_probe_errors_are_named(runtime: Runtime, fake: tuple[FakeTaxii, str]) -> None:
    _, url = fake
    wrong = peers.PeerAuth(kind="basic", username="peer", secret="nope")
    with pytest.raises(ExternalServiceError, match="401 Unauthorized"):
        peers.probe(f"{url}/taxii2/", wrong, settings=runtime.settings, **FAST)
    with pytest.raises(ExternalServiceError, match="404 Not Found"):
        peers.probe(f"{url}/elsewhere/", wrong, settings=runtime.settings, **FAST)
    closed = LiveServer(FakeTaxii().app(), lifespan="off").start()
    gone = closed.url
    closed.stop()
    with pytest.raises(ExternalServiceError, match="unreachable"):
        peers.probe(f"{gone}/taxii2/", wrong, settings=runtime.settings, **FAST)


def test_probe_peer_records_the_error(runtime: Runtime, fake: tuple[FakeTaxii, str]) -> None:
    _, url = fake
    peer_id = _peer(runtime, url, password="wrong")
    with runtime.session() as s:
        peer = peers.probe_peer(s, peer_id, settings=runtime.settings, clock=runtime.clock, **FAST)
    assert "401" in peer.last_error
    with runtime.session() as s:
        assert "401" in peers.get_peer(s, peer_id).last_error


def test_pull_twice_across_pages_with_provenance(
    runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    server, url = fake
    added = [server.put("c1", _ind(n)) for n in range(5)]
    sub_id = _subscribe(runtime, _peer(runtime, url), url)
    first = _pull(runtime, sub_id, page_size=2)
    assert (first.ok, first.pages, first.read, first.new) == (True, 3, 5, 5), first.error
    assert first.added_after == added[-1]
    with runtime.session() as s:
        rows = s.scalars(select(IntelProvenance)).all()
        assert len(rows) == 5
        detail = rows[0].detail
        assert detail["peer"] == "Villa Norte" and detail["collection_url"].endswith("/c1/")
        assert detail["date_added_first"] == added[0] and detail["date_added_last"] == added[1]
        source = s.scalars(select(IntelSource).where(IntelSource.kind == "taxii")).one()
        assert source.state["added_after"] == added[-1] and source.counts["new"] == 5
    server.put("c1", _ind(7))
    server.put("c1", _ind(8))
    second = _pull(runtime, sub_id, page_size=2)
    assert (second.ok, second.pages, second.read, second.new) == (True, 1, 2, 2)
    assert f"added_after={added[-1].replace(':', '%3A')}" in server.requests[-1]
    with runtime.session() as s:
        assert len(s.scalars(select(IntelProvenance)).all()) == 7
        shown = peers.get_subscription(s, sub_id)
        assert shown.counts["read"] == 2 and shown.last_error == ""


def test_bad_object_is_refused_not_the_page(runtime: Runtime, fake: tuple[FakeTaxii, str]) -> None:
    server, url = fake
    server.put("c1", _ind(1))
    server.put("c1", {**_ind(2), "id": "indicator--not-a-uuid"})
    server.put("c1", _ind(3))
    sub_id = _subscribe(runtime, _peer(runtime, url), url)
    result = _pull(runtime, sub_id)
    assert (result.ok, result.new) == (True, 2)
    assert result.refused[0]["path"] == "page 1: $.objects[1]"
    assert "not '<type>--<uuid>'" in result.refused[0]["reason"]


def test_retries_on_503_then_succeeds(runtime: Runtime, fake: tuple[FakeTaxii, str]) -> None:
    server, url = fake
    server.put("c1", _ind(1))
    sub_id = _subscribe(runtime, _peer(runtime, url), url)
    server.fail_next = 2
    result = _pull(runtime, sub_id)
    assert (result.ok, result.new) == (True, 1), result.error
    assert server.fail_next == 0


def test_gives_up_after_the_retries_and_records_it(
    runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    server, url = fake
    sub_id = _subscribe(runtime, _peer(runtime, url), url)
    server.fail_next = runtime.settings.intel_pull_retries + 5
    result = _pull(runtime, sub_id)
    assert not result.ok and "503 server error" in result.error
    with runtime.session() as s:
        shown = peers.get_subscription(s, sub_id)
        assert "503" in shown.last_error and shown.last_pull_at is not None


def test_push_then_read_back(runtime: Runtime, fake: tuple[FakeTaxii, str]) -> None:
    server, url = fake
    sub_id = _subscribe(runtime, _peer(runtime, url), url)
    server.pending_polls = 2
    objs = [_ind(1), _ind(2)]
    with runtime.session() as s:
        pushed = peers.push_objects(
            s, sub_id, objs, settings=runtime.settings, now=runtime.clock.now(),
            poll_seconds=0.0, **FAST,
        )  # fmt: skip
    assert (pushed.status, pushed.success_count, pushed.failure_count) == ("complete", 2, 0)
    result = _pull(runtime, sub_id)
    assert result.read == 2 and result.new == 2


def test_push_to_a_read_only_collection_fails_clearly(
    runtime: Runtime, fake: tuple[FakeTaxii, str]
) -> None:
    _, url = fake
    sub_id = _subscribe(runtime, _peer(runtime, url), url, cid="readonly")
    with runtime.session() as s:
        pushed = peers.push_objects(
            s, sub_id, [_ind(1)], settings=runtime.settings, now=runtime.clock.now(), **FAST
        )
    assert pushed.status == "failed" and "does not let us write" in pushed.error


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)

    warning = error = info


def test_pull_job_pulls_due_subscriptions(runtime: Runtime, fake: tuple[FakeTaxii, str]) -> None:
    from datetime import timedelta

    from civicshield.jobs import JobContext

    server, url = fake
    server.put("c1", _ind(1))
    peer_id = _peer(runtime, url)
    due_id = _subscribe(runtime, peer_id, url)
    quiet = peers.SubscriptionCreate(
        peer_id=peer_id, api_root_url=f"{url}/api1/", collection_id="readonly", pull=False
    )
    with runtime.session() as s:
        peers.subscribe(s, quiet, settings=runtime.settings, actor=ACTOR, clock=runtime.clock)
    [job] = [j for j in peers.JOBS if j.name == peers.PULL_JOB]
    log = _Log()
    with runtime.session() as s:
        ctx = JobContext(s, {}, log, runtime.clock, {"settings": runtime.settings})
        assert job.run(ctx) == {"pulled": 1, "failed": 0}
    assert log.lines[0].startswith(f"subscription {due_id}: 1 pages, 1 read")
    with runtime.session() as s:  # just pulled: not due again until intel_pull_minutes pass
        now = runtime.clock.now()
        assert peers.due_subscriptions(s, settings=runtime.settings, now=now) == []
        later = now + timedelta(minutes=runtime.settings.intel_pull_minutes)
        assert peers.due_subscriptions(s, settings=runtime.settings, now=later) == [due_id]
