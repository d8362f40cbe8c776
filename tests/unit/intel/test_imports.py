"""Importing the shared samples with exact counts; versions, revocation and refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from civicshield import intel
from civicshield.core import SYSTEM, Tlp
from civicshield.core.errors import ExternalServiceError
from civicshield.runtime import Runtime

from .conftest import bundle, indicator, load, shared

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_tlp2_definitions_and_the_invalid_upstream_example(runtime: Runtime) -> None:
    with runtime.session() as s:
        ok = intel.import_stix(
            s,
            load("stix-tlp2/tlp2-marking-definitions.json"),
            location="tlp2",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        assert (ok.read, ok.new, ok.refused) == (5, 5, [])
        bad = intel.import_stix(
            s,
            load("stix-tlp2/using-tlp2.0-green.INVALID-upstream-example.json"),
            location="invalid",
            actor=SYSTEM,
            clock=runtime.clock,
        )
    # The relationship with created "2022-101-27…" is refused, its two neighbours stored,
    # and the envelope without "type": "bundle" is reported.
    assert (bad.read, bad.stored, len(bad.refused)) == (3, 2, 1)
    refusal = bad.refused[0]
    assert refusal.path == "$.objects[2]"
    assert refusal.stix_id.startswith("relationship--")
    assert "'created'" in refusal.reason
    assert any("not 'bundle'" in note for note in bad.notes)


def test_incident_examples(runtime: Runtime) -> None:
    with runtime.session() as s:
        pii = intel.import_stix(
            s,
            load("stix-incident-examples/incident_pii_report.json"),
            location="pii",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        ransom = intel.import_stix(
            s,
            load("stix-incident-examples/incident_ransom.json"),
            location="ransom",
            actor=SYSTEM,
            clock=runtime.clock,
        )
    assert (pii.read, pii.new, pii.refused) == (11, 11, [])
    assert (ransom.read, ransom.new, len(ransom.refused)) == (19, 18, 1)
    assert "custom object type: task" in ransom.refused[0].reason


def test_medallion_fixture_versions(runtime: Runtime) -> None:
    data = load("taxii-medallion-fixture/default_data.json")
    objects = [o for c in data["trustgroup1"]["collections"] for o in c.get("objects", [])]
    with runtime.session() as s:
        first = intel.import_stix(
            s, bundle(*objects), location="m", actor=SYSTEM, clock=runtime.clock
        )
        again = intel.import_stix(
            s, bundle(*objects), location="m", actor=SYSTEM, clock=runtime.clock
        )
        url = intel.get_indicator(s, "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e", now=NOW)
    # 8 versions of 5 objects: the url indicator has 3, the malware 2.
    assert (first.read, first.new, first.new_versions) == (8, 5, 3)
    assert (again.stored, again.unchanged) == (0, 8)
    assert url.pattern == "[url:value = 'http://x4z9arb.cn/4712']"
    assert [v["modified"] for v in url.versions] == [
        "2017-01-27T13:49:53.935Z",
        "2016-12-25T12:30:59.444Z",
        "2016-11-03T12:30:59.000Z",
    ]


def test_versions_revocation_and_unmatchable(runtime: Runtime) -> None:
    ident = "indicator--0b8a2f3e-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
    v1 = indicator("[ipv4-addr:value = '198.51.100.7']", ident=ident)
    v2 = {
        **v1,
        "modified": "2026-11-10T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '198.51.100.8']",
    }
    v3 = {**v2, "modified": "2026-11-11T00:00:00.000Z", "revoked": True}
    odd = indicator("[file:name = 'a.exe']")
    with runtime.session() as s:
        r1 = intel.import_stix(s, bundle(v1, odd), location="a", actor=SYSTEM, clock=runtime.clock)
        r2 = intel.import_stix(s, bundle(v2, v1), location="a", actor=SYSTEM, clock=runtime.clock)
        assert (r1.new, r1.not_matchable, r2.new_versions, r2.unchanged) == (2, 1, 1, 1)
        assert intel.get_indicator(s, ident, now=NOW).lookups == [["ipv4", "198.51.100.8/32"]]
        assert "file:name" in intel.get_indicator(s, odd["id"], now=NOW).not_matchable
        assert intel.indicator_index(s, NOW).size == 1
        intel.import_stix(s, bundle(v3), location="a", actor=SYSTEM, clock=runtime.clock)
        shown = intel.get_indicator(s, ident, now=NOW)
        assert shown.revoked and not shown.active
        assert intel.indicator_index(s, NOW).size == 0


def test_bad_objects_refused_with_reasons(runtime: Runtime) -> None:
    good = indicator("[domain-name:value = 'kraken-iot.example']")
    wrong_id = {
        **indicator("[url:value = 'http://x.example/']"),
        "id": "malware--0b8a2f3e-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
    }
    no_pattern = {k: v for k, v in indicator("[url:value = 'x']").items() if k != "pattern"}
    with runtime.session() as s:
        report = intel.import_stix(
            s,
            bundle(good, wrong_id, no_pattern, "text"),
            location="b",
            actor=SYSTEM,
            clock=runtime.clock,
        )
    assert report.new == 1
    assert [r.path for r in report.refused] == ["$.objects[1]", "$.objects[2]", "$.objects[3]"]
    assert "does not start with its type" in report.refused[0].reason
    assert "pattern" in report.refused[1].reason
    assert "expected a JSON object" in report.refused[2].reason


def test_misp_feed_then_incremental_pull(runtime: Runtime) -> None:
    feed = str(shared("misp-feed-sample/feed"))
    with runtime.session() as s:
        first = intel.import_misp_feed(s, feed, actor=SYSTEM, clock=runtime.clock)
        second = intel.import_misp_feed(s, feed, actor=SYSTEM, clock=runtime.clock)
        items = intel.list_indicators(s, intel.IndicatorFilter(), now=NOW).items
    # Two identities and 10 to_ids attributes (5 + 5); 4 attributes without to_ids skipped.
    assert (first.read, first.new, first.skipped, first.not_matchable) == (12, 12, 4, 2)
    assert (second.read, second.stored, second.skipped) == (0, 0, 2)
    assert len(items) == 10
    kinds = sorted(i.kind for i in items)
    assert kinds == ["", "", "domain", "domain", "domain", "domain", "md5", "sha1", "sha256", "url"]
    xorist = next(i for i in items if i.kind == "md5")
    assert xorist.tlp == "clear"  # the event's tlp:white tag


def test_misp_feed_directory_without_manifest(runtime: Runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = shared("misp-feed-sample/feed")
    for name in (
        "57c4445b-c548-4654-af0b-4be3950d210f.json",
        "5b646415-7b48-40d5-86b4-c0070acd0835.json",
    ):
        (tmp_path / name).write_bytes((source / name).read_bytes())
    with runtime.session() as s:
        first = intel.import_misp_feed(s, str(tmp_path), actor=SYSTEM, clock=runtime.clock)
        again = intel.import_misp_feed(s, str(tmp_path), actor=SYSTEM, clock=runtime.clock)
    assert (first.new, again.stored, again.unchanged) == (12, 0, 12)
    assert any("no manifest.json" in n for n in first.notes)


def test_misp_api_events(runtime: Runtime) -> None:
    with runtime.session() as s:
        plain = intel.import_misp_event(
            s,
            load("misp-feed-sample/api-export/misp_event.json"),
            location="e1",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        sighted = intel.import_misp_event(
            s,
            load("misp-feed-sample/api-export/sighting_1.json"),
            location="e2",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        urls = intel.list_indicators(s, intel.IndicatorFilter(kind="url"), now=NOW).items
    assert (plain.new, plain.skipped) == (1, 2)  # the creator identity; no to_ids attributes
    assert (sighted.new, sighted.read) == (6, 6)
    assert urls[0].tlp == "clear"  # distribution 3 (all communities), no tlp tag


def test_csv_and_plain_list(runtime: Runtime) -> None:
    csv_text = (
        "ip,sha,note\n198.51.100.7,,x\n203.0.113.0/24,,\nnot-an-ip,,\n"
        ",0749bae92ca336a02c83d126e04ec628,\n"
    )
    with runtime.session() as s:
        first = intel.import_csv(
            s,
            csv_text,
            mapping="ip=ip,sha=hash,note=description",
            location="c.csv",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        again = intel.import_csv(
            s,
            csv_text,
            mapping="ip=ip,sha=hash,note=description",
            location="c.csv",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        plain = intel.import_csv(
            s,
            "# botnet\nkraken-iot.example\n\nbad domain\n",
            mapping="domain",
            location="l.txt",
            actor=SYSTEM,
            clock=runtime.clock,
        )
    assert (first.new, first.not_matchable, len(first.refused)) == (4, 1, 0)
    assert (again.stored, again.unchanged) == (0, 4)
    # "not-an-ip" is stored but not matchable; "bad domain" likewise (the pattern compiles as
    # a domain string) — both with their reason, never dropped.
    assert plain.new == 2


def test_csv_values_carry_a_tlp_marking(runtime: Runtime) -> None:
    text = "ip,tlp\n198.51.100.8,red\n198.51.100.9,\n198.51.100.10,purple\n"
    with runtime.session() as s:
        report = intel.import_csv(
            s, text, mapping="ip=ip,tlp=tlp", location="t.csv", actor=SYSTEM,
            clock=runtime.clock, tlp=Tlp.GREEN,
        )  # fmt: skip
        assert report.new == 2
        [(place, reason)] = [(r.path, r.reason) for r in report.refused]
        assert place == "t.csv:4:ip" and "'purple' is not clear" in reason
        levels = {
            i.pattern: i.tlp for i in intel.list_indicators(
                s, intel.IndicatorFilter(), now=runtime.clock.now()
            ).items
        }  # fmt: skip
    assert levels == {
        "[ipv4-addr:value = '198.51.100.8']": "red",
        "[ipv4-addr:value = '198.51.100.9']": "green",
    }


def test_misp_feed_over_http_and_its_failures(runtime: Runtime) -> None:
    feed = shared("misp-feed-sample/feed")

    def serve(request: httpx.Request) -> httpx.Response:
        path = feed / request.url.path.rsplit("/", 1)[-1]
        if not path.is_file():
            return httpx.Response(404)
        return httpx.Response(200, content=path.read_bytes())

    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    url = "https://feeds.example/misp"
    with runtime.session() as s:
        report = intel.import_misp_feed(
            s, url, actor=SYSTEM, clock=runtime.clock, transport=httpx.MockTransport(serve)
        )
        assert (report.new, report.skipped) == (12, 4)
        with pytest.raises(
            ExternalServiceError, match=r"feeds\.example/down/manifest\.json answered HTTP 503"
        ):
            intel.import_misp_feed(
                s, "https://feeds.example/down", actor=SYSTEM, clock=runtime.clock,
                transport=httpx.MockTransport(broken),
            )  # fmt: skip
