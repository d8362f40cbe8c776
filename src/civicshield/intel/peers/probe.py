"""Probe: discovery -> API roots -> collections, with what we may do in each."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from taxii2client.v21 import ApiRoot

from civicshield.core.errors import ExternalServiceError
from civicshield.core.settings import Settings
from civicshield.intel.peers.client import Link, PeerAuth, open_link, taxii_call

__all__ = ["CollectionInfo", "ProbeResult", "RootInfo", "probe", "probe_with"]


@dataclass(frozen=True)
class CollectionInfo:
    id: str
    title: str
    url: str
    can_read: bool
    can_write: bool
    media_types: list[str] = field(default_factory=list)


@dataclass
class RootInfo:
    url: str
    title: str = ""
    versions: list[str] = field(default_factory=list)
    max_content_length: int | None = None
    collections: list[CollectionInfo] = field(default_factory=list)
    error: str = ""  # this root failed; the others are still reported


@dataclass
class ProbeResult:
    url: str
    title: str = ""
    default: str = ""
    roots: list[RootInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def find(self, api_root_url: str, collection_id: str) -> CollectionInfo | None:
        wanted = api_root_url.rstrip("/") + "/"
        for root in self.roots:
            if root.url.rstrip("/") + "/" == wanted:
                for col in root.collections:
                    if col.id == collection_id:
                        return col
        return None


def _root(link: Link, root: ApiRoot) -> RootInfo:
    info = RootInfo(url=root.url)
    try:
        taxii_call(root.url, root.refresh_information)
        info.title = str(root.title or "")
        info.versions = [str(v) for v in root.versions or []]
        info.max_content_length = root.max_content_length
        taxii_call(root.url, root.refresh_collections)
    except ExternalServiceError as exc:  # one bad root must not hide the others
        info.error = exc.detail
        return info
    for col in root.collections:
        info.collections.append(
            CollectionInfo(
                id=str(col.id),
                title=str(col.title or ""),
                url=col.url,
                can_read=bool(col.can_read),
                can_write=bool(col.can_write),
                media_types=[str(m) for m in col.media_types or []],
            )
        )
    return info


def probe_with(link: Link, url: str) -> ProbeResult:
    """Probe over an open link; raises ExternalServiceError when discovery fails."""
    server = link.server(url)
    roots = taxii_call(url, lambda: link.api_roots(server))
    result = ProbeResult(url=server.url, title=str(server.title or ""))
    raw = server._raw or {}  # `default` as the server wrote it
    if raw.get("default"):
        result.default = str(raw["default"])
    result.roots = [_root(link, root) for root in roots]
    return result


def probe(
    url: str, auth: PeerAuth, *, settings: Settings, backoff_factor: float = 0.5
) -> ProbeResult:
    """Discover a TAXII 2.1 server: its API roots, their collections and our permissions.
    Raises ExternalServiceError naming the problem (unreachable, 401, not TAXII…)."""
    with open_link(auth, settings, backoff_factor=backoff_factor) as link:
        return probe_with(link, url)
