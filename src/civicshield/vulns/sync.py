"""`vulns sync`: gather KEV, EPSS, CVE JSON 5 and NVD records from the best available place.

Per source, in order: `from_path` (a feeds folder such as `../shared/data/vuln`, one source's
folder, or one file; nothing is downloaded then), else `<feeds_path>/vuln/<source folder>` when
present (offline cities), else HTTP (cached under `<data_dir>/cache/vuln`). CVE JSON 5 has no
bulk HTTP download here (it is a git checkout, cvelistV5 or vulnrichment): without a local copy
it is reported as skipped. NVD over HTTP is incremental: the end of the last successful window
is kept in `<data_dir>/cache/vuln/nvd/state.json`. Storing records is a later step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from civicshield.core import Invalid, Settings
from civicshield.vulns.feeds import (
    FeedError,
    FeedResult,
    Fetcher,
    NvdClient,
    Problem,
    load_cve5,
    load_epss,
    load_kev,
    load_nvd,
    nvd_rate_limiter,
)
from civicshield.vulns.feeds._http import load_json, read_bytes, utc_now
from civicshield.vulns.feeds.epss import fetch_epss
from civicshield.vulns.feeds.kev import fetch_kev

__all__ = ["SOURCES", "SourceResult", "SyncReport", "find_local", "sync_feeds"]

SOURCES = ("kev", "epss", "cve5", "nvd")
FOLDERS = {
    "kev": ("kev",),
    "epss": ("epss",),
    "cve5": ("cve5-vulnrichment", "cve5", "vulnrichment", "cvelistV5"),
    "nvd": ("nvd-api2", "nvd"),
}
Progress = Callable[[str, int, int | None], None]


@dataclass
class SourceResult:
    source: str
    origin: str  # path, URL, or why it was skipped
    status: str  # "loaded", "downloaded", "cached", "skipped"
    result: FeedResult[Any] = field(default_factory=FeedResult)
    info: dict[str, str] = field(default_factory=dict)

    def to_dict(self, *, max_problems: int | None = None) -> dict[str, Any]:
        return {
            "source": self.source,
            "origin": self.origin,
            "status": self.status,
            "read": self.result.read,
            "kept": self.result.kept,
            "skipped": self.result.skipped,
            "info": self.info,
            "problems": [p.to_dict() for p in self.result.problems[:max_problems]],
        }


@dataclass
class SyncReport:
    sources: list[SourceResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"sources": [s.to_dict() for s in self.sources]}

    @property
    def problems(self) -> list[Problem]:
        return [p for s in self.sources for p in s.result.problems]


def _sniff_file(path: Path) -> str:
    """Which feed a single file holds, by its name, else by its content."""
    name = path.name.lower()
    if ".csv" in name or "epss" in name:
        return "epss"
    if ".jsonl" in name:
        return "cve5"
    if "known_exploited" in name or name.startswith("kev"):
        return "kev"
    doc = load_json(read_bytes(path), str(path))
    if isinstance(doc, dict):
        if "catalogVersion" in doc:
            return "kev"
        if "cveMetadata" in doc or "dataType" in doc:
            return "cve5"
        if "vulnerabilities" in doc or "cve" in doc or "configurations" in doc:
            return "nvd"
    raise Invalid(f"cannot tell which feed {path} holds; name it with --only")


def find_local(root: Path, only: Sequence[str]) -> dict[str, Path]:
    """Local paths per source under `root`: a feeds folder (or its `vuln/`), one source's
    folder (with `only` naming it), or one file."""
    if not root.exists():
        raise Invalid(f"--from path does not exist: {root}")
    if root.is_file():
        kind = only[0] if len(only) == 1 else _sniff_file(root)
        return {kind: root}
    base = root / "vuln" if (root / "vuln").is_dir() else root
    found = {
        source: base / folder
        for source in only
        for folder in reversed(FOLDERS[source])
        if (base / folder).is_dir()
    }
    if not found and len(only) == 1:
        found = {only[0]: root}  # the folder is that one source's data
    return found


def _load(source: str, path: Path, progress: Callable[[int, int | None], None]) -> SourceResult:
    result: FeedResult[Any]
    info: dict[str, str] = {}
    if source == "kev":
        kev = load_kev(path)
        info = {"catalog_version": kev.catalog_version or ""}
        result = kev
    elif source == "epss":
        epss = load_epss(path)
        info = {
            "model_version": epss.model_version or "",
            "score_date": epss.score_date.isoformat() if epss.score_date else "",
        }
        result = epss
    elif source == "cve5":
        result = load_cve5(path, progress=progress)
    else:
        result = load_nvd(path, progress=progress)
    progress(result.read, result.read)
    return SourceResult(source, str(path), "loaded", result, info)


def _nvd_state(cache: Path) -> Path:
    return cache / "nvd" / "state.json"


def _fetch(
    source: str,
    settings: Settings,
    fetcher: Fetcher,
    progress: Callable[[int, int | None], None],
    now: Callable[[], datetime],
    nvd_fetcher: Callable[[], Fetcher],
) -> SourceResult:
    max_age = timedelta(hours=settings.feeds_cache_hours)
    if source == "kev":
        kev, cached = fetch_kev(fetcher, url=settings.kev_url, max_age=max_age)
        progress(kev.read, kev.read)
        status = "cached" if cached else "downloaded"
        info = {"catalog_version": kev.catalog_version or ""}
        return SourceResult(source, settings.kev_url, status, kev, info)
    if source == "epss":
        epss, cached = fetch_epss(fetcher, url=settings.epss_url, max_age=max_age)
        progress(epss.read, epss.read)
        info = {
            "model_version": epss.model_version or "",
            "score_date": epss.score_date.isoformat() if epss.score_date else "",
        }
        return SourceResult(
            source, settings.epss_url, "cached" if cached else "downloaded", epss, info
        )
    if source == "cve5":
        return SourceResult(
            source,
            "no local CVE JSON 5 copy (use --from with a cvelistV5 or vulnrichment checkout)",
            "skipped",
        )
    state_path = _nvd_state(fetcher.cache_dir)
    since: datetime | None = None
    if state_path.is_file():
        try:
            since = datetime.fromisoformat(json.loads(state_path.read_text())["last_mod_end"])
        except (ValueError, KeyError, TypeError) as exc:
            raise FeedError(str(state_path), None, f"unreadable sync state ({exc})") from None
    until = now()
    with nvd_fetcher() as paced:
        client = NvdClient(paced, url=settings.nvd_api_url, max_age=max_age)
        result = client.changed(since, until, progress=progress)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps({"last_mod_end": until.isoformat()}) + "\n")
    info = {
        "since": since.isoformat() if since else "all",
        "until": until.isoformat(),
        "requests": str(client.requests),
        "cached_pages": str(client.cached_pages),
    }
    status = "downloaded" if client.requests else "cached"
    return SourceResult(source, settings.nvd_api_url, status, result, info)


def sync_feeds(
    settings: Settings,
    *,
    from_path: Path | None = None,
    only: Sequence[str] | None = None,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = utc_now,
) -> SyncReport:
    """Load or fetch each chosen source; see the module docstring for where from."""
    chosen = list(only or SOURCES)
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown:
        raise Invalid(f"unknown feed {unknown[0]!r}; choose from {', '.join(SOURCES)}")
    if from_path is not None:
        local = find_local(from_path, chosen)
        if not local:
            raise Invalid(f"no {'/'.join(chosen)} feed data found under {from_path}")
    elif settings.feeds_path is not None and (settings.feeds_path / "vuln").is_dir():
        local = find_local(settings.feeds_path / "vuln", chosen)
    else:
        local = {}
    report = SyncReport()
    cache = settings.data_dir / "cache" / "vuln"
    api_key = settings.nvd_api_key.get_secret_value() if settings.nvd_api_key else None

    def nvd_fetcher() -> Fetcher:
        return Fetcher(
            cache,
            transport=transport,
            headers={"apiKey": api_key} if api_key else {},
            limiter=nvd_rate_limiter(api_key, monotonic=monotonic, sleep=sleep),
            sleep=sleep,
            now=now,
        )

    with Fetcher(cache, transport=transport, sleep=sleep, now=now) as fetcher:
        for source in chosen:

            def step(done: int, total: int | None, source: str = source) -> None:
                if progress is not None:
                    progress(source, done, total)

            if source in local:
                report.sources.append(_load(source, local[source], step))
            elif from_path is not None:
                report.sources.append(
                    SourceResult(source, f"not found under {from_path}", "skipped")
                )
            else:
                report.sources.append(_fetch(source, settings, fetcher, step, now, nvd_fetcher))
    return report
