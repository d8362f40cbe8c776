"""NVD CVE API 2.0 client and parser.

API (https://nvd.nist.gov/developers/vulnerabilities, https://nvd.nist.gov/developers/start-here):
``GET /rest/json/cves/2.0`` with ``startIndex`` / ``resultsPerPage`` (at most 2,000) paging; a
page is ``{resultsPerPage, startIndex, totalResults, format, version, timestamp,
vulnerabilities: [{cve}]}``. Incremental sync: ``lastModStartDate`` and ``lastModEndDate``
together, at most 120 consecutive days apart. The API key goes in the ``apiKey`` header. Rate
limits (rolling 30 s window): 5 requests without a key, 50 with one; NVD answers 403 (or 503)
when over it, so requests are paced by a `RateLimiter` and retried with backoff.

Local sources: a results page, a bare ``cve`` object or ``{"cve": …}`` per ``.json`` file (the
fkie-cad/nvd-json-data-feeds layout), or a folder of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from civicshield.vulns.applicability import ApplicabilityError, parse_nvd_cve
from civicshield.vulns.feeds._fields import (
    CVE_ID,
    as_dict,
    opt_date,
    opt_datetime,
    opt_float,
    opt_list,
    opt_str,
)
from civicshield.vulns.feeds._http import (
    FeedError,
    FeedResult,
    Fetcher,
    Problem,
    RateLimiter,
    RecordError,
    load_json,
    read_bytes,
)
from civicshield.vulns.feeds.records import CveRecord, CvssScore, Description, KevMark

__all__ = [
    "MAX_PAGE_SIZE",
    "MAX_WINDOW",
    "NVD_API_URL",
    "NvdClient",
    "NvdResult",
    "load_nvd",
    "nvd_rate_limiter",
    "parse_nvd_page_records",
    "parse_nvd_record",
    "windows",
]

NVD_API_URL = "https://services.nvd.nist.gov/rest/json/cves/2.0"
MAX_PAGE_SIZE = 2000
MAX_WINDOW = timedelta(days=120)
RATE_WINDOW_SECONDS = 30.0
RATE_LIMIT_NO_KEY = 5
RATE_LIMIT_WITH_KEY = 50
_METRIC_KEYS = {
    "cvssMetricV2": "2.0",
    "cvssMetricV30": "3.0",
    "cvssMetricV31": "3.1",
    "cvssMetricV40": "4.0",
}


@dataclass
class NvdResult(FeedResult[CveRecord]):
    total_results: int | None = None
    timestamp: datetime | None = None


def _cvss(metrics: Mapping[str, Any]) -> list[CvssScore]:
    out = []
    for key, version in _METRIC_KEYS.items():
        for i, metric in enumerate(opt_list(metrics, key, "$.metrics")):
            mpath = f"$.metrics.{key}[{i}]"
            metric = as_dict(metric, mpath)
            data = as_dict(metric.get("cvssData"), f"{mpath}.cvssData")
            vector = opt_str(data, "vectorString", f"{mpath}.cvssData")
            if vector is None:
                raise RecordError(f"{mpath}.cvssData.vectorString", "missing")
            out.append(
                CvssScore(
                    version=opt_str(data, "version", f"{mpath}.cvssData") or version,
                    vector=vector,
                    base_score=opt_float(data, "baseScore", f"{mpath}.cvssData"),
                    # v2 keeps baseSeverity beside cvssData, v3/v4 inside it
                    base_severity=opt_str(data, "baseSeverity", f"{mpath}.cvssData")
                    or opt_str(metric, "baseSeverity", mpath),
                    source=opt_str(metric, "source", mpath) or "",
                    kind=(opt_str(metric, "type", mpath) or "").lower(),
                )
            )
    return out


def parse_nvd_record(obj: Any) -> CveRecord:
    """One NVD ``cve`` object (or ``{"cve": …}``); raises `RecordError` when malformed."""
    obj = as_dict(obj, "$")
    if isinstance(obj.get("cve"), dict):
        obj = obj["cve"]
    cve_id = opt_str(obj, "id")
    if cve_id is None or not CVE_ID.match(cve_id.strip()):
        raise RecordError("$.id", f"missing or not a CVE id: {cve_id!r}")
    descriptions = []
    for i, desc in enumerate(opt_list(obj, "descriptions", "$")):
        dpath = f"$.descriptions[{i}]"
        desc = as_dict(desc, dpath)
        value = opt_str(desc, "value", dpath)
        if value is None:
            raise RecordError(f"{dpath}.value", "missing")
        descriptions.append(Description(opt_str(desc, "lang", dpath) or "en", value))
    cwes: list[str] = []
    for i, weakness in enumerate(opt_list(obj, "weaknesses", "$")):
        wpath = f"$.weaknesses[{i}]"
        for j, desc in enumerate(opt_list(as_dict(weakness, wpath), "description", wpath)):
            value = opt_str(as_dict(desc, f"{wpath}.description[{j}]"), "value") or ""
            if value.startswith("CWE-") and value not in cwes:
                cwes.append(value)
    kev = None
    added = opt_date(obj, "cisaExploitAdd")
    if added is not None:
        kev = KevMark(
            date_added=added,
            due_date=opt_date(obj, "cisaActionDue"),
            required_action=opt_str(obj, "cisaRequiredAction"),
        )
    try:
        applicability = parse_nvd_cve(obj)
    except ApplicabilityError as exc:
        raise RecordError(exc.path, exc.problem) from None
    return CveRecord(
        cve_id=cve_id.strip(),
        source="nvd",
        state=opt_str(obj, "vulnStatus"),
        published=opt_datetime(obj, "published"),
        modified=opt_datetime(obj, "lastModified"),
        descriptions=tuple(descriptions),
        cvss=tuple(_cvss(as_dict(obj.get("metrics", {}), "$.metrics"))),
        cwes=tuple(cwes),
        ssvc=None,
        kev=kev,
        applicability=applicability,
    )


def _add(result: NvdResult, raw: Any, source: str, position: str) -> None:
    try:
        result.items.append(parse_nvd_record(raw))
    except RecordError as exc:
        cve = raw.get("cve", raw).get("id") if isinstance(raw, dict) else None
        label = f" ({cve})" if isinstance(cve, str) else ""
        result.problems.append(Problem(source, f"{position}{label} {exc.path}", exc.problem))


def parse_nvd_page_records(doc: Any, source: str) -> NvdResult:
    """A results page, a bare ``cve`` object or ``{"cve": …}``; bad records are skipped."""
    result = NvdResult()
    if isinstance(doc, dict) and "vulnerabilities" in doc:
        vulns = doc["vulnerabilities"]
        if not isinstance(vulns, list):
            raise FeedError(source, "$.vulnerabilities", "not a list")
        total = doc.get("totalResults")
        result.total_results = total if isinstance(total, int) else None
        try:
            result.timestamp = opt_datetime(doc, "timestamp")
        except RecordError as exc:
            raise FeedError(source, exc.path, exc.problem) from None
        for i, item in enumerate(vulns):
            _add(result, item, source, f"$.vulnerabilities[{i}]")
    elif isinstance(doc, dict) and ("cve" in doc or "id" in doc):
        _add(result, doc, source, "record")
    else:
        raise FeedError(source, "$", "not an NVD API 2.0 page or cve object")
    return result


def load_nvd(path: Path, *, progress: Callable[[int, int | None], None] | None = None) -> NvdResult:
    """From a `.json[.gz]` file or a folder of them (recursively); in folder mode a file that is
    not JSON is reported and skipped."""
    if not path.is_dir():
        return parse_nvd_page_records(load_json(read_bytes(path), str(path)), str(path))
    files = sorted(
        p
        for p in path.rglob("*")
        if p.is_file() and p.name.endswith((".json", ".json.gz")) and ".meta." not in p.name
    )
    result = NvdResult()
    for done, file in enumerate(files, start=1):
        try:
            result.extend(parse_nvd_page_records(load_json(read_bytes(file), str(file)), str(file)))
        except FeedError as exc:
            result.problems.append(Problem(exc.source, exc.position or "file", exc.problem))
        if progress is not None:
            progress(done, len(files))
    return result


def windows(
    start: datetime, end: datetime, max_days: timedelta = MAX_WINDOW
) -> list[tuple[datetime, datetime]]:
    """Split [start, end] into consecutive windows no longer than `max_days` (NVD refuses
    ranges over 120 days)."""
    if end < start:
        raise ValueError(f"window end {end.isoformat()} is before start {start.isoformat()}")
    out = []
    cursor = start
    while cursor < end:
        stop = min(cursor + max_days, end)
        out.append((cursor, stop))
        cursor = stop
    return out or [(start, end)]


def nvd_date(moment: datetime) -> str:
    """NVD's extended ISO 8601 form with milliseconds and an explicit UTC offset."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


def nvd_rate_limiter(
    api_key: str | None,
    *,
    monotonic: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> RateLimiter:
    """NVD's documented limit: 5 requests per rolling 30 s without a key, 50 with one."""
    limit = RATE_LIMIT_WITH_KEY if api_key else RATE_LIMIT_NO_KEY
    kwargs: dict[str, Any] = {}
    if monotonic is not None:
        kwargs["monotonic"] = monotonic
    if sleep is not None:
        kwargs["sleep"] = sleep
    return RateLimiter(limit, RATE_WINDOW_SECONDS, **kwargs)


class NvdClient:
    """Pages through the CVE API; each page is cached on disk by its query (so an interrupted
    sync resumes from the cache) and parsed as it arrives."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        url: str = NVD_API_URL,
        page_size: int = MAX_PAGE_SIZE,
        max_age: timedelta = timedelta(hours=12),
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self.fetcher = fetcher
        self.url = url
        self.page_size = page_size
        self.max_age = max_age
        self.requests = 0
        self.cached_pages = 0

    def _page(self, params: Mapping[str, str | int]) -> tuple[Any, str]:
        key = json.dumps({"url": self.url, **params}, sort_keys=True)
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        dest = self.fetcher.cache_dir / "nvd" / "pages" / f"{digest}.json"
        got = self.fetcher.download(self.url, dest, max_age=self.max_age, params=params)
        if got.from_cache:
            self.cached_pages += 1
        else:
            self.requests += 1
        where = f"{self.url}?startIndex={params['startIndex']}"
        return load_json(read_bytes(got.path), where), where

    def iter_pages(self, params: Mapping[str, str | int] | None = None) -> Iterator[NvdResult]:
        """Every page of one query, parsed; follows `totalResults` with `startIndex`."""
        start = 0
        while True:
            query = {**(params or {}), "startIndex": start, "resultsPerPage": self.page_size}
            doc, where = self._page(query)
            if not isinstance(doc, dict) or not isinstance(doc.get("totalResults"), int):
                raise FeedError(where, "$.totalResults", "missing: not an NVD API 2.0 page")
            page = parse_nvd_page_records(doc, where)
            yield page
            start += page.read
            if page.read == 0 or start >= doc["totalResults"]:
                return

    def changed(
        self,
        since: datetime | None,
        until: datetime,
        *,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> NvdResult:
        """Records modified in [since, until] (every record when `since` is None), fetched in
        windows of at most 120 days."""
        queries: list[dict[str, str | int]]
        if since is None:
            queries = [{}]
        else:
            queries = [
                {"lastModStartDate": nvd_date(a), "lastModEndDate": nvd_date(b)}
                for a, b in windows(since, until)
            ]
        result = NvdResult()
        expected = 0  # sum of totalResults of the windows started so far
        for query in queries:
            for index, page in enumerate(self.iter_pages(query)):
                if index == 0:
                    expected += page.total_results or 0
                result.extend(page)
                if progress is not None:
                    progress(result.read, max(expected, result.read))
        result.total_results = expected
        return result
