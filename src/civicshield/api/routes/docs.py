"""`/api/docs`: a self-hosted Swagger UI page over `/api/v1/openapi.json`.

Swagger UI's files are vendored by `make assets` (pinned, checksummed) and served by the web
package at `/static/vendor/`; this page loads them with their Subresource Integrity hashes from
the vendor manifest, read at request time. The CSP allows no inline script, so the start-up
code is a static file (`/api/docs/init.js`) configured through `data-` attributes.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse

from civicshield.api.deps import CSRF_HEADER, RuntimeDep, public
from civicshield.http import lookup_principal

__all__ = ["VENDOR_DIR", "router"]

VENDOR_DIR = Path(__file__).resolve().parents[2] / "web" / "static" / "vendor"
INIT_SCRIPT = Path(__file__).resolve().parents[1] / "static" / "swagger-init.js"
ASSETS = ("swagger-ui.css", "swagger-ui.js")

router = APIRouter(prefix="/api/docs", include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CivicShield API</title>
<link rel="stylesheet" href="{css}" integrity="{css_sri}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}" data-csrf-header="{csrf_header}"
     data-csrf-token="{csrf}"></div>
<script src="{js}" integrity="{js_sri}"></script>
<script src="{init}"></script>
</body>
</html>
"""

MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CivicShield API: documentation assets missing</title></head>
<body>
<h1>The API documentation page cannot load</h1>
<p>Swagger UI is not installed: {reason}.</p>
<p>Run <code>make assets</code> (it fetches the pinned, checksummed front-end files into
<code>src/civicshield/web/static/vendor/</code>), then reload this page.</p>
<p>The OpenAPI document itself is available at <a href="{openapi}">{openapi}</a>.</p>
</body>
</html>
"""


def _vendor_assets() -> dict[str, tuple[str, str]] | str:
    """`{key: (file, integrity)}` for Swagger UI, or why it cannot be served."""
    manifest = VENDOR_DIR / "manifest.json"
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{manifest} does not exist"
    except (OSError, ValueError) as exc:
        return f"{manifest} cannot be read ({exc})"
    found: dict[str, tuple[str, str]] = {}
    for key in ASSETS:
        entry = entries.get(key) if isinstance(entries, dict) else None
        if not isinstance(entry, dict) or not entry.get("file") or not entry.get("integrity"):
            return f"{manifest} has no entry {key!r} with a file and an integrity hash"
        if not (VENDOR_DIR / str(entry["file"])).is_file():
            return f"{VENDOR_DIR / str(entry['file'])} does not exist"
        found[key] = (str(entry["file"]), str(entry["integrity"]))
    return found


@router.get("", dependencies=[Depends(public())], response_class=HTMLResponse)
def swagger_ui(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    openapi = root + (request.app.openapi_url or "/api/v1/openapi.json")
    assets = _vendor_assets()
    if isinstance(assets, str):
        page = MISSING.format(reason=escape(assets), openapi=escape(openapi))
        return HTMLResponse(page, status_code=503)
    # A signed-in browser may try out writes: give the init script the session's CSRF token.
    principal = lookup_principal(request, runtime)
    csrf = request.scope.get("civicshield.csrf", "") if principal is not None else ""
    (css, css_sri), (js, js_sri) = assets["swagger-ui.css"], assets["swagger-ui.js"]
    page = PAGE.format(
        css=escape(f"{root}/static/vendor/{css}"),
        css_sri=escape(css_sri),
        js=escape(f"{root}/static/vendor/{js}"),
        js_sri=escape(js_sri),
        init=escape(f"{root}/api/docs/init.js"),
        openapi=escape(openapi),
        csrf_header=escape(CSRF_HEADER),
        csrf=escape(str(csrf)),
    )
    return HTMLResponse(page)


@router.get("/init.js", dependencies=[Depends(public())])
def swagger_init() -> FileResponse:
    return FileResponse(INIT_SCRIPT, media_type="text/javascript; charset=utf-8")
