"""Reading MISP feeds and files from a directory, a file or an http(s) URL. Network fetches go
through httpx with a timeout and an injectable transport (tests use a local server or a mock
transport); every failure is an ExternalServiceError naming the URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from civicshield.core.errors import ExternalServiceError, Invalid, NotFound

__all__ = ["FeedReader", "is_url"]


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class FeedReader:
    """Reads `name` (e.g. `manifest.json`, `<uuid>.json`) under a base directory or URL."""

    def __init__(
        self,
        location: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.location = location
        self._timeout = timeout
        self._transport = transport

    def _url(self, name: str) -> str:
        return self.location.rstrip("/") + "/" + name

    def exists(self, name: str) -> bool:
        if not is_url(self.location):
            return (Path(self.location) / name).is_file()
        try:
            self.read(name)
        except NotFound:
            return False
        return True

    def names(self) -> list[str]:
        """Event files of a directory without a manifest (`*.json`, the manifest aside)."""
        if is_url(self.location):
            raise Invalid(f"{self.location}: a feed URL needs a manifest.json")
        return sorted(
            p.name for p in Path(self.location).glob("*.json") if p.name != "manifest.json"
        )

    def read(self, name: str) -> Any:
        if not is_url(self.location):
            path = Path(self.location) / name
            try:
                return json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise NotFound(f"{path} does not exist") from None
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise Invalid(f"{path}: not readable JSON: {exc}") from None
        url = self._url(name)
        try:
            with httpx.Client(timeout=self._timeout, transport=self._transport) as client:
                response = client.get(url, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise ExternalServiceError(f"{url}: {type(exc).__name__}: {exc}") from None
        if response.status_code == 404:
            raise NotFound(f"{url} answered 404")
        if response.status_code >= 400:
            raise ExternalServiceError(f"{url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise ExternalServiceError(f"{url}: the answer is not JSON: {exc}") from None
