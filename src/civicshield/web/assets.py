"""Static assets: our own CSS/JS with a content hash for cache busting, and the vendored
third-party files listed in `static/vendor/manifest.json` (written by `make assets`).

A missing vendor file never breaks a page: its tag is left out, a warning is logged once and
the footer says how to fix it. Pages keep working as plain HTML forms without HTMX.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup, escape

__all__ = ["STATIC_DIR", "Assets", "VendorFile"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VendorFile:
    url: str
    integrity: str


@dataclass
class Assets:
    """Resolved once at start-up; templates ask for tags by logical name."""

    own: dict[str, str] = field(default_factory=dict)  # "app.css" -> "/static/app.css?v=…"
    vendor: dict[str, VendorFile] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, wanted: tuple[str, ...] = ("htmx",)) -> Assets:
        assets = cls()
        for name in ("app.css", "app.js", "favicon.svg"):
            digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
            assets.own[name] = f"/static/{name}?v={digest}"
        manifest = _read_manifest()
        for logical in wanted:
            entry = manifest.get(logical)
            if entry is None or not (VENDOR_DIR / str(entry.get("file", ""))).is_file():
                log.warning(
                    "front-end asset %r is missing from %s; run `make assets`", logical, VENDOR_DIR
                )
                assets.missing.append(logical)
                continue
            assets.vendor[logical] = VendorFile(
                url=f"/static/vendor/{entry['file']}", integrity=str(entry["integrity"])
            )
        return assets

    def script(self, logical: str) -> Markup:
        """A `<script defer>` tag with subresource integrity, or nothing if it is missing."""
        found = self.vendor.get(logical)
        if found is None:
            return Markup("")
        return Markup(
            '<script src="{}" integrity="{}" crossorigin="anonymous" defer></script>'
        ).format(found.url, found.integrity)

    def stylesheet(self, logical: str) -> Markup:
        found = self.vendor.get(logical)
        if found is None:
            return Markup("")
        return Markup(
            '<link rel="stylesheet" href="{}" integrity="{}" crossorigin="anonymous">'
        ).format(escape(found.url), escape(found.integrity))


def _read_manifest() -> dict[str, dict[str, object]]:
    try:
        data = json.loads((VENDOR_DIR / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", VENDOR_DIR / "manifest.json", exc)
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}
