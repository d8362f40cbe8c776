"""Shared plumbing of the vulnerability feed clients.

* `Fetcher`: HTTP GET with an injectable transport (`httpx.MockTransport` in tests), an optional
  sliding-window `RateLimiter`, retries with backoff on 403/429/5xx (honouring `Retry-After`),
  and a disk cache (`download`: reused while fresh, revalidated with ETag/Last-Modified after).
  `sleep`, `monotonic` and `now` are injectable so tests never wait.
* `read_bytes`: a local file, gunzipped when it is gzip, with errors that name the file.
* `FeedResult`: what a parser kept plus the located problems of the records it skipped.
"""

from __future__ import annotations

import gzip
import json
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from civicshield.core import ExternalServiceError, Invalid

__all__ = [
    "FeedError",
    "FeedResult",
    "Fetched",
    "Fetcher",
    "Problem",
    "RateLimiter",
    "RecordError",
    "json_error",
    "load_json",
    "read_bytes",
    "utc_now",
]

T = TypeVar("T")
RETRY_STATUSES = frozenset({403, 429, 500, 502, 503, 504})
GZIP_MAGIC = b"\x1f\x8b"


def utc_now() -> datetime:
    return datetime.now(UTC)


class FeedError(Invalid):
    """A feed file or response that cannot be read at all (not one bad record in it): names the
    file or URL and, when known, the position (line/column, JSON path)."""

    title = "Invalid feed"
    slug = "invalid-feed"

    def __init__(self, source: str, position: str | None, problem: str) -> None:
        where = f"{source}: {position}" if position else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.position = position
        self.problem = problem


class RecordError(ValueError):
    """One malformed record; `path` is where in the record (e.g. `$.dateAdded`)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Problem:
    """A record that was skipped: which file/URL, where in it, and why."""

    source: str
    position: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.position}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "position": self.position, "message": self.message}


@dataclass
class FeedResult(Generic[T]):
    """Parsed records and the skipped ones (`read` = kept + skipped)."""

    items: list[T] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return len(self.items)

    @property
    def skipped(self) -> int:
        return len(self.problems)

    @property
    def read(self) -> int:
        return self.kept + self.skipped

    def extend(self, other: FeedResult[T]) -> None:
        self.items.extend(other.items)
        self.problems.extend(other.problems)


def json_error(source: str, exc: json.JSONDecodeError, line_offset: int = 0) -> FeedError:
    """A JSON syntax error located by line and column."""
    return FeedError(source, f"line {exc.lineno + line_offset} column {exc.colno}", exc.msg)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic number."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FeedError(str(path), None, f"cannot read: {exc.strerror or exc}") from None
    if not data.startswith(GZIP_MAGIC):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise FeedError(str(path), None, f"not a valid gzip file ({exc})") from None


def load_json(data: bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise FeedError(source, f"byte {exc.start}", "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise json_error(source, exc) from None


class RateLimiter:
    """At most `limit` requests in any `window` seconds (a sliding window, as the NVD API
    counts): `acquire` sleeps until a slot is free."""

    def __init__(
        self,
        limit: int,
        window: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._monotonic = monotonic
        self._sleep = sleep
        self._sent: deque[float] = deque()

    def acquire(self) -> None:
        now = self._monotonic()
        while self._sent and self._sent[0] <= now - self.window:
            self._sent.popleft()
        if len(self._sent) >= self.limit:
            wait = self._sent[0] + self.window - now
            if wait > 0:
                self._sleep(wait)
            self._sent.popleft()
        self._sent.append(self._monotonic())


@dataclass(frozen=True, slots=True)
class Fetched:
    path: Path
    url: str
    from_cache: bool


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    return None


@dataclass
class Fetcher:
    """GETs with rate limiting, retries and a disk cache; close it (or use `with`)."""

    cache_dir: Path
    transport: httpx.BaseTransport | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    limiter: RateLimiter | None = None
    max_attempts: int = 5
    backoff_seconds: float = 6.0
    max_backoff_seconds: float = 120.0
    timeout_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = utc_now
    _client: httpx.Client | None = field(default=None, init=False, repr=False)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                transport=self.transport,
                follow_redirects=True,
                timeout=self.timeout_seconds,
                headers={"User-Agent": "CivicShield vulnerability feeds", **self.headers},
            )
        return self._client

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """GET `url`; retries on 403/429/5xx and network errors with exponential backoff (or the
        server's `Retry-After`). Returns a 200 or 304 response; raises `ExternalServiceError`."""
        problem = ""
        for attempt in range(self.max_attempts):
            if self.limiter is not None:
                self.limiter.acquire()
            delay = min(self.backoff_seconds * 2**attempt, self.max_backoff_seconds)
            try:
                response = self.client.get(url, params=params, headers=headers)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in (200, 304):
                    return response
                problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
                delay = _retry_after(response) or delay
            if attempt + 1 < self.max_attempts:
                self.sleep(delay)
        hint = " (403 from NVD: rate limited or a wrong CIVICSHIELD_NVD_API_KEY)"
        raise ExternalServiceError(
            f"GET {url} failed after {attempt + 1} attempt(s): {problem}"
            + (hint if problem == "HTTP 403" else "")
        )

    def download(
        self,
        url: str,
        dest: Path,
        *,
        max_age: timedelta,
        params: Mapping[str, str | int] | None = None,
    ) -> Fetched:
        """Fetch `url` into `dest` (atomically); reuse `dest` without asking when fetched less
        than `max_age` ago, else revalidate it (ETag / Last-Modified; 304 keeps it)."""
        meta_path = dest.with_name(dest.name + ".meta.json")
        meta: dict[str, str] = {}
        if dest.is_file() and meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                fetched_at = datetime.fromisoformat(meta["fetched_at"])
            except (ValueError, KeyError, TypeError):
                meta = {}
            else:
                if self.now() - fetched_at < max_age:
                    return Fetched(dest, url, from_cache=True)
        conditional: dict[str, str] = {}
        if meta.get("etag"):
            conditional["If-None-Match"] = meta["etag"]
        if meta.get("last_modified"):
            conditional["If-Modified-Since"] = meta["last_modified"]
        response = self.get(url, params=params, headers=conditional or None)
        if response.status_code == 304 and dest.is_file():
            self._write_meta(meta_path, url, response, meta)
            return Fetched(dest, url, from_cache=True)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        part.write_bytes(response.content)
        part.replace(dest)
        self._write_meta(meta_path, url, response, {})
        return Fetched(dest, url, from_cache=False)

    def _write_meta(
        self, path: Path, url: str, response: httpx.Response, old: Mapping[str, str]
    ) -> None:
        meta = {
            "url": url,
            "fetched_at": self.now().isoformat(),
            "etag": response.headers.get("ETag") or old.get("etag", ""),
            "last_modified": response.headers.get("Last-Modified") or old.get("last_modified", ""),
        }
        path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
