"""Which inventory asset an alert concerns: its host name or one of its IP addresses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield.assets.models import Asset

__all__ = ["AssetIndex", "AssetRef"]


@dataclass(frozen=True)
class AssetRef:
    id: int
    name: str
    sector: str


class AssetIndex:
    """Identifier → asset for the active inventory, loaded once on first use (one batch)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._index: dict[str, AssetRef] | None = None

    def _load(self) -> dict[str, AssetRef]:
        index: dict[str, AssetRef] = {}
        rows = self._session.execute(
            select(Asset.id, Asset.name, Asset.sector, Asset.ips, Asset.hostnames).where(
                Asset.lifecycle != "retired"
            )
        )
        for asset_id, name, sector, ips, hostnames in rows:
            ref = AssetRef(asset_id, name, sector)
            for ident in [*(ips or []), *(h.lower() for h in hostnames or [])]:
                index.setdefault(ident, ref)
                if "." in ident and not ident.replace(".", "").isdigit():
                    index.setdefault(ident.split(".", 1)[0], ref)  # short host name
        return index

    def find(self, identifiers: Iterable[str]) -> AssetRef | None:
        """The asset of the first identifier the inventory knows (host names ignore case)."""
        if self._index is None:
            self._index = self._load()
        for ident in identifiers:
            ref = self._index.get(ident) or self._index.get(ident.lower())
            if ref is not None:
                return ref
        return None
