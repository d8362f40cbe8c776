"""Feed clients: paging, rate limits and backoff, incremental windows, cache, located errors.

HTTP goes through `httpx.MockTransport`; sleeping and clocks are fakes, so nothing waits.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from civicshield.core import ExternalServiceError, load_settings
from civicshield.vulns.feeds import (
    FeedError,
    Fetcher,
    NvdClient,
    RateLimiter,
    load_cve5,
    load_kev,
    nvd_rate_limiter,
    parse_cve5_record,
    parse_epss,
    parse_kev,
    parse_nvd_record,
    windows,
)
from civicshield.vulns.feeds.kev import fetch_kev
from civicshield.vulns.feeds.nvd import nvd_date
from civicshield.vulns.sync import sync_feeds

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
V4 = "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"


class FakeClock:
    """`monotonic`, `sleep` and `now` that only move when something sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.t - 1000.0)


def _cve(cve_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": cve_id,
        "published": "2024-01-02T03:04:05.000",
        "lastModified": "2024-02-02T03:04:05.000",
        "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": f"{cve_id} text"}],
        "metrics": {
            "cvssMetricV31": [
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "cvssData": {
                        "version": "3.1",
                        "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                        "baseScore": 9.8,
                        "baseSeverity": "CRITICAL",
                    },
                }
            ]
        },
        "configurations": [
            {
                "nodes": [
                    {
                        "operator": "OR",
                        "cpeMatch": [
                            {
                                "vulnerable": True,
                                "criteria": "cpe:2.3:o:mikrotik:routeros:*:*:*:*:*:*:*:*",
                                "versionEndIncluding": "6.42",
                            }
                        ],
                    }
                ]
            }
        ],
        **extra,
    }


def _nvd_api(total: int, seen: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        start = int(request.url.params["startIndex"])
        size = int(request.url.params["resultsPerPage"])
        ids = range(start, min(start + size, total))
        return httpx.Response(
            200,
            json={
                "resultsPerPage": len(ids),
                "startIndex": start,
                "totalResults": total,
                "format": "NVD_CVE",
                "version": "2.0",
                "timestamp": "2026-11-22T12:00:00.000",
                "vulnerabilities": [{"cve": _cve(f"CVE-2024-{10000 + i}")} for i in ids],
            },
        )

    return httpx.MockTransport(handler)


def test_nvd_pages_until_total_results(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    clock = FakeClock()
    fetcher = Fetcher(tmp_path, transport=_nvd_api(5, seen), sleep=clock.sleep, now=clock.now)
    with fetcher:
        result = NvdClient(fetcher, page_size=2).changed(None, NOW)
    assert [r.url.params["startIndex"] for r in seen] == ["0", "2", "4"]
    assert result.kept == 5 and result.skipped == 0 and result.total_results == 5
    assert [r.cve_id for r in result.items][-1] == "CVE-2024-10004"


def test_nvd_without_key_paces_to_five_requests_per_30_seconds(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    clock = FakeClock()
    fetcher = Fetcher(
        tmp_path,
        transport=_nvd_api(12, seen),
        limiter=nvd_rate_limiter(None, monotonic=clock.monotonic, sleep=clock.sleep),
        sleep=clock.sleep,
        now=clock.now,
    )
    with fetcher:
        NvdClient(fetcher, page_size=1).changed(None, NOW)
    assert len(seen) == 12
    assert clock.slept == [30.0, 30.0]  # requests 6 and 11 wait for the window to roll


def test_rate_limiter_with_key_allows_fifty() -> None:
    clock = FakeClock()
    limiter = nvd_rate_limiter("k", monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept == [30.0]


def test_sliding_window_only_waits_for_the_oldest_slot() -> None:
    clock = FakeClock()
    limiter = RateLimiter(2, 10, monotonic=clock.monotonic, sleep=clock.sleep)
    limiter.acquire()
    clock.t += 4
    limiter.acquire()
    limiter.acquire()  # oldest was at t=1000, now t=1004: wait 6
    assert clock.slept == [6.0]


@pytest.mark.parametrize("status", [403, 429, 503])
def test_backoff_then_success(tmp_path: Path, status: int) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            headers = {"Retry-After": "7"} if status == 429 else {}
            return httpx.Response(status, headers=headers)
        return httpx.Response(200, text="ok")

    clock = FakeClock()
    with Fetcher(tmp_path, transport=httpx.MockTransport(handler), sleep=clock.sleep) as f:
        assert f.get("https://example.test/x").text == "ok"
    assert clock.slept == ([7.0, 7.0] if status == 429 else [6.0, 12.0])


def test_gives_up_after_max_attempts_with_a_clear_error(tmp_path: Path) -> None:
    clock = FakeClock()
    transport = httpx.MockTransport(lambda r: httpx.Response(403))
    with (
        Fetcher(tmp_path, transport=transport, sleep=clock.sleep, max_attempts=3) as f,
        pytest.raises(ExternalServiceError, match=r"3 attempt.*HTTP 403.*NVD_API_KEY"),
    ):
        f.get("https://example.test/x")
    assert len(clock.slept) == 2


def test_not_found_is_not_retried(tmp_path: Path) -> None:
    clock = FakeClock()
    transport = httpx.MockTransport(lambda r: httpx.Response(404))
    with (
        Fetcher(tmp_path, transport=transport, sleep=clock.sleep) as f,
        pytest.raises(ExternalServiceError, match="HTTP 404"),
    ):
        f.get("https://example.test/x")
    assert clock.slept == []


def test_windows_never_exceed_120_days() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    parts = windows(start, start + timedelta(days=300))
    assert len(parts) == 3
    assert all(b - a <= timedelta(days=120) for a, b in parts)
    assert parts[0][0] == start and parts[-1][1] == start + timedelta(days=300)
    assert all(parts[i][1] == parts[i + 1][0] for i in range(len(parts) - 1))
    with pytest.raises(ValueError, match="before"):
        windows(start, start - timedelta(days=1))


def test_incremental_query_sends_lastmod_windows_and_api_key(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    clock = FakeClock()
    fetcher = Fetcher(
        tmp_path, transport=_nvd_api(1, seen), headers={"apiKey": "abc"}, now=clock.now
    )
    since = NOW - timedelta(days=200)
    with fetcher:
        NvdClient(fetcher).changed(since, NOW)
    assert len(seen) == 2
    first = seen[0].url.params
    assert first["lastModStartDate"] == nvd_date(since) == "2026-05-06T12:00:00.000+00:00"
    assert seen[1].url.params["lastModEndDate"] == nvd_date(NOW)
    assert all(r.headers["apiKey"] == "abc" for r in seen)


def _kev_doc(*entries: Any) -> bytes:
    return json.dumps(
        {
            "catalogVersion": "2025.08.25",
            "dateReleased": "2025-08-25T17:04:19.9796Z",
            "count": len(entries),
            "vulnerabilities": list(entries),
        }
    ).encode()


KEV_ENTRY = {
    "cveID": "CVE-2018-14847",
    "vendorProject": "MikroTik",
    "product": "RouterOS",
    "vulnerabilityName": "Directory traversal",
    "dateAdded": "2021-12-01",
    "shortDescription": "…",
    "requiredAction": "Apply updates",
    "dueDate": "2022-06-01",
    "knownRansomwareCampaignUse": "Known",
    "notes": "",
    "cwes": ["CWE-22"],
}


def test_cache_hit_then_revalidation(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, content=_kev_doc(KEV_ENTRY), headers={"ETag": '"v1"'})

    clock = FakeClock()
    with Fetcher(tmp_path, transport=httpx.MockTransport(handler), now=clock.now) as f:
        first, cached1 = fetch_kev(f, max_age=timedelta(hours=1))
        second, cached2 = fetch_kev(f, max_age=timedelta(hours=1))
        assert (cached1, cached2, len(calls)) == (False, True, 1)
        clock.t += 7200
        third, cached3 = fetch_kev(f, max_age=timedelta(hours=1))
    assert cached3 is True and len(calls) == 2
    assert first.kept == second.kept == third.kept == 1
    assert third.items[0].ransomware and third.items[0].due_date is not None


def test_kev_bad_entry_is_skipped_with_position() -> None:
    bad = {**KEV_ENTRY, "cveID": "CVE-XX", "dateAdded": "2021-12-01"}
    no_date = {**KEV_ENTRY, "dateAdded": "yesterday"}
    catalog = parse_kev(_kev_doc(KEV_ENTRY, bad, no_date), "kev.json")
    assert (catalog.read, catalog.kept, catalog.skipped) == (3, 1, 2)
    assert (
        str(catalog.problems[0]) == "kev.json: $.vulnerabilities[1].cveID: not a CVE id: 'CVE-XX'"
    )
    assert catalog.problems[1].position == "$.vulnerabilities[2].dateAdded"
    assert catalog.catalog_version == "2025.08.25"


def test_corrupt_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "known_exploited_vulnerabilities.json"
    path.write_text('{\n  "vulnerabilities": [\n    {"cveID": }\n  ]\n}\n')
    with pytest.raises(FeedError) as err:
        load_kev(tmp_path)
    assert err.value.detail.startswith(f"{path}: line 3 column 15: ")


def test_corrupt_gzip_names_file(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n' * 100)[:-12])
    with pytest.raises(FeedError, match=rf"{path}: not a valid gzip file"):
        load_cve5(path)


def test_epss_official_and_crawled_formats() -> None:
    official = (
        b"#model_version:v2025.03.14,score_date:2025-03-14T00:00:00+0000\n"
        b"cve,epss,percentile\nCVE-2024-0001,0.00043,0.1\ncve-2024-0002,1.5,0.2\n"
        b"CVE-2024-0003,0.9\n"
    )
    feed = parse_epss(official, "epss.csv")
    assert feed.model_version == "v2025.03.14"
    assert feed.score_date == datetime(2025, 3, 14, tzinfo=UTC)
    assert [(s.cve, s.epss, s.percentile) for s in feed.items] == [("CVE-2024-0001", 0.00043, 0.1)]
    assert [p.position for p in feed.problems] == ["line 4", "line 5"]
    assert "between 0 and 1" in feed.problems[0].message
    crawled = parse_epss(b"CVE-1999-1593;0.181260000;0.969460000\n", "x.csv")
    assert crawled.kept == 1 and crawled.model_version is None
    with pytest.raises(FeedError, match="no EPSS rows"):
        parse_epss(b"\n", "empty.csv")


def _cve5(ssvc_exploitation: str = "None") -> dict[str, Any]:
    return {
        "dataType": "CVE_RECORD",
        "cveMetadata": {
            "cveId": "CVE-2024-1234",
            "state": "PUBLISHED",
            "datePublished": "2024-05-01T00:00:00",
            "dateUpdated": "2024-06-01T10:00:00.000Z",
        },
        "containers": {
            "cna": {
                "providerMetadata": {"shortName": "siemens"},
                "descriptions": [{"lang": "en", "value": "A flaw."}],
                "metrics": [
                    {
                        "cvssV4_0": {
                            "version": "4.0",
                            "baseScore": 7.1,
                            "baseSeverity": "HIGH",
                            "vectorString": V4,
                        }
                    }
                ],
                "affected": [{"vendor": "Siemens", "product": "X", "versions": []}],
            },
            "adp": [
                {
                    "providerMetadata": {"shortName": "CISA-ADP"},
                    "metrics": [
                        {
                            "other": {
                                "type": "ssvc",
                                "content": {
                                    "role": "CISA Coordinator",
                                    "version": "2.0.3",
                                    "options": [
                                        {"Exploitation": ssvc_exploitation},
                                        {"Automatable": "Yes"},
                                        {"Technical Impact": "total"},
                                    ],
                                },
                            }
                        },
                        {"other": {"type": "kev", "content": {"dateAdded": "2024-05-16"}}},
                        {
                            "cvssV3_1": {
                                "version": "3.1",
                                "baseScore": 9.8,
                                "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            }
                        },
                    ],
                    "affected": [
                        {
                            "vendor": "siemens",
                            "product": "x",
                            "cpes": ["cpe:2.3:o:siemens:x_firmware:*:*:*:*:*:*:*:*"],
                            "versions": [
                                {
                                    "version": "0",
                                    "lessThan": "2.1",
                                    "status": "affected",
                                    "versionType": "custom",
                                }
                            ],
                        }
                    ],
                    "problemTypes": [{"descriptions": [{"cweId": "CWE-352", "lang": "en"}]}],
                }
            ],
        },
    }


def test_cve5_record_with_cisa_adp() -> None:
    rec = parse_cve5_record(_cve5("None"))
    assert rec.ssvc is not None
    assert (rec.ssvc.exploitation, rec.ssvc.automatable, rec.ssvc.technical_impact) == (
        "none",
        "yes",
        "total",
    )
    assert rec.kev is not None and rec.kev.date_added is not None
    assert {(c.version, c.source) for c in rec.cvss} == {
        ("4.0", "cna:siemens"),
        ("3.1", "adp:CISA-ADP"),
    }
    assert rec.cwes == ("CWE-352",)
    assert rec.modified == datetime(2024, 6, 1, 10, tzinfo=UTC)
    assert [m.range.end_excluding for m in rec.applicability.criteria()] == ["2.1"]


def test_cve5_jsonl_skips_bad_lines(tmp_path: Path) -> None:
    broken = _cve5()
    broken["containers"]["adp"][0]["affected"][0]["cpes"] = ["not-a-cpe"]
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join([json.dumps(_cve5()), "{oops", json.dumps(broken)]) + "\n")
    result = load_cve5(path)
    assert (result.read, result.kept, result.skipped) == (3, 1, 2)
    assert result.problems[0].position == "line 2 column 2"
    assert result.problems[1].position.startswith("line 3 (CVE-2024-1234) $.containers.adp[0]")


def test_nvd_record_kev_and_cvss() -> None:
    rec = parse_nvd_record({"cve": _cve("CVE-2018-14847", cisaExploitAdd="2021-12-01")})
    assert rec.kev is not None and rec.kev.date_added is not None
    assert rec.cvss[0].base_score == 9.8 and rec.cvss[0].kind == "primary"
    assert rec.description() == "CVE-2018-14847 text"


def test_sync_http_uses_cache_and_skips_cve5(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        if "epss" in request.url.host:
            return httpx.Response(
                200, content=gzip.compress(b"cve,epss,percentile\nCVE-2024-0001,0.5,0.9\n")
            )
        return httpx.Response(200, content=_kev_doc(KEV_ENTRY))

    settings = load_settings(environment="test", data_dir=tmp_path, feeds_path=None)
    clock = FakeClock()
    kwargs: dict[str, Any] = {
        "transport": httpx.MockTransport(handler),
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
        "now": clock.now,
    }
    report = sync_feeds(settings, only=["kev", "epss", "cve5"], **kwargs)
    assert [(s.source, s.status, s.result.kept) for s in report.sources] == [
        ("kev", "downloaded", 1),
        ("epss", "downloaded", 1),
        ("cve5", "skipped", 0),
    ]
    again = sync_feeds(settings, only=["kev", "epss"], **kwargs)
    assert [s.status for s in again.sources] == ["cached", "cached"] and len(calls) == 2


def test_sync_nvd_keeps_incremental_state(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    settings = load_settings(environment="test", data_dir=tmp_path, feeds_path=None)
    clock = FakeClock()
    kwargs: dict[str, Any] = {
        "transport": _nvd_api(3, seen),
        "sleep": clock.sleep,
        "monotonic": clock.monotonic,
        "now": clock.now,
    }
    first = sync_feeds(settings, only=["nvd"], **kwargs)
    assert first.sources[0].result.kept == 3 and "lastModStartDate" not in seen[0].url.params
    clock.t += 3600
    sync_feeds(settings, only=["nvd"], **kwargs)
    assert seen[-1].url.params["lastModStartDate"] == nvd_date(NOW)


def test_sync_from_single_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(_kev_doc(KEV_ENTRY))
    settings = load_settings(environment="test", data_dir=tmp_path, feeds_path=None)
    report = sync_feeds(settings, from_path=path)
    assert [(s.source, s.status, s.result.kept) for s in report.sources] == [
        ("kev", "loaded", 1),
        ("epss", "skipped", 0),
        ("cve5", "skipped", 0),
        ("nvd", "skipped", 0),
    ]
