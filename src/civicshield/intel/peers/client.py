"""Talking to a peer's TAXII 2.1 server through the OASIS `taxii2-client` library.

One `Link` is one conversation: a requests Session carrying the peer's credentials, a
default timeout, and urllib3's `Retry` (connection errors, 429 and 5xx retried with
exponential back-off, honouring `Retry-After`), handed to taxii2-client as its connection.
API roots are built on that same connection: taxii2-client's `Server` would otherwise open
new connections for them without the credentials."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from taxii2client.common import TokenAuth, _HTTPConnection
from taxii2client.exceptions import (
    AccessError,
    InvalidJSONError,
    TAXIIServiceException,
    ValidationError,
)
from taxii2client.v21 import ApiRoot, Collection, Server
from urllib3.util.retry import Retry

from civicshield.core.errors import ExternalServiceError
from civicshield.core.settings import Settings

__all__ = [
    "RETRY_STATUSES",
    "Link",
    "PeerAuth",
    "explain",
    "open_link",
    "retry_policy",
    "taxii_call",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
T = TypeVar("T")


@dataclass(frozen=True)
class PeerAuth:
    """How we authenticate: HTTP Basic (`username` + secret), a token
    (`Authorization: Token …`), or nothing. The secret never appears in a repr."""

    kind: str = "none"  # basic | token | none
    username: str = ""
    secret: str = field(default="", repr=False)


def retry_policy(settings: Settings, *, backoff_factor: float = 0.5) -> Retry:
    """Retries for connection errors, 429 and 5xx: `intel_pull_retries` at most, waiting
    backoff_factor × 2^n seconds between tries (Retry-After when the server sends one)."""
    return Retry(
        total=settings.intel_pull_retries,
        connect=settings.intel_pull_retries,
        read=settings.intel_pull_retries,
        status=settings.intel_pull_retries,
        backoff_factor=backoff_factor,
        backoff_max=60,
        status_forcelist=sorted(RETRY_STATUSES),
        # TAXII adds are idempotent (an object version added twice is one version).
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is kept, so errors name its status
    )


class _Adapter(HTTPAdapter):
    """An adapter with a default timeout (requests has none)."""

    def __init__(self, *, retries: Retry, timeout: float) -> None:
        super().__init__(max_retries=retries)
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


class Link:
    """A connection to one peer; `last_headers` are the headers of the latest answer, names
    in lower case (the library returns bodies only; TAXII puts X-TAXII-Date-Added-First and
    -Last in headers)."""

    def __init__(self, auth: PeerAuth, settings: Settings, *, backoff_factor: float = 0.5):
        if auth.kind == "basic":
            conn = _HTTPConnection(user=auth.username, password=auth.secret, version="2.1")
        elif auth.kind == "token":
            conn = _HTTPConnection(auth=TokenAuth(auth.secret), version="2.1")
        else:
            conn = _HTTPConnection(version="2.1")
        adapter = _Adapter(
            retries=retry_policy(settings, backoff_factor=backoff_factor),
            timeout=settings.intel_pull_timeout_seconds,
        )
        conn.session.mount("http://", adapter)
        conn.session.mount("https://", adapter)
        conn.session.hooks["response"].append(self._remember)
        self.conn = conn
        self.adapter = adapter
        self.last_headers: dict[str, str] = {}

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.last_headers = {k.lower(): v for k, v in response.headers.items()}

    def server(self, url: str) -> Server:
        return Server(url, conn=self.conn)

    def api_roots(self, server: Server) -> list[ApiRoot]:
        """The server's API roots, on this connection (with our credentials)."""
        server.refresh()
        raw = server._raw or {}  # the URLs as the server wrote them
        return [
            ApiRoot(urljoin(server.url, str(u)), conn=self.conn) for u in raw.get("api_roots") or []
        ]

    def api_root(self, url: str) -> ApiRoot:
        return ApiRoot(url, conn=self.conn)

    def collection(self, api_root_url: str, collection_id: str) -> Collection:
        return Collection(
            urljoin(api_root_url.rstrip("/") + "/", f"collections/{collection_id}/"),
            conn=self.conn,
        )

    def close(self) -> None:
        self.conn.close()


@contextmanager
def open_link(auth: PeerAuth, settings: Settings, **kw: Any) -> Iterator[Link]:
    link = Link(auth, settings, **kw)
    try:
        yield link
    finally:
        link.close()


_STATUS_TEXT = {
    401: "401 Unauthorized: the server refused our credentials",
    403: "403 Forbidden: our account may not do this",
    404: "404 Not Found: no TAXII endpoint at this address",
    406: "406 Not Acceptable: the server does not speak TAXII 2.1",
    413: "413 Payload Too Large: the server refused the size of what we sent",
    415: "415 Unsupported Media Type: the server does not accept TAXII 2.1 content",
    429: "429 Too Many Requests: the server is still limiting us after our retries",
}


def explain(exc: BaseException, url: str) -> str:
    """A short, clear sentence for what went wrong talking to `url`."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        code = exc.response.status_code
        text = _STATUS_TEXT.get(code) or (
            f"{code} server error, still failing after our retries"
            if code >= 500
            else f"HTTP {code} {exc.response.reason}"
        )
        return f"{exc.response.url or url}: {text}"
    if isinstance(exc, requests.Timeout):
        return f"{url}: unreachable: no answer in time"
    if isinstance(exc, requests.ConnectionError):
        return f"{url}: unreachable: {type(exc).__name__} (is the address right and the server up?)"
    if isinstance(exc, requests.RequestException):
        return f"{url}: request failed: {exc}"
    if isinstance(exc, AccessError):  # before its base class: ours, not the server's fault
        return f"{url}: {exc}"
    if isinstance(exc, TAXIIServiceException | InvalidJSONError | ValidationError):
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"{url}: not a TAXII 2.1 server: {first}"
    return f"{url}: {type(exc).__name__}: {exc}"


def taxii_call(url: str, func: Callable[[], T]) -> T:
    """Run `func`, turning any HTTP or TAXII failure into an ExternalServiceError."""
    try:
        return func()
    except (requests.RequestException, TAXIIServiceException, AccessError, KeyError) as exc:
        raise ExternalServiceError(explain(exc, url)) from None
