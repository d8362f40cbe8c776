"""The response headers of an evidence download, shared by the web page and the API: always
an attachment of opaque bytes, never sniffed, rendered inline or run by a browser."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["download_headers"]


def download_headers(filename: str, size: int) -> dict[str, str]:
    # An ASCII fallback for old clients, the real name (RFC 5987/6266) for the rest.
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename)
    return {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": (
            f'attachment; filename="{fallback or "evidence"}"; '
            f"filename*=UTF-8''{quote(filename, safe='')}"
        ),
        "Content-Length": str(size),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "no-store",
    }
