"""Composition root: `create_app(settings)` wires the runtime, web pages and REST API.

Nothing here runs at import time; servers and tests call `create_app`.
"""

from __future__ import annotations

import gc
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from civicshield import __version__, api, web
from civicshield.api import taxii
from civicshield.core.errors import CivicShieldError
from civicshield.core.settings import Environment, Settings, load_settings
from civicshield.http import (
    BodySizeLimitMiddleware,
    CatchAllMiddleware,
    SecurityHeadersMiddleware,
)
from civicshield.runtime import Runtime, build_runtime
from civicshield.worker import Worker

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else load_settings())
    rt = runtime or build_runtime(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything built so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise walk it all and stall requests (tail latency).
        # Not in tests, which build many short-lived apps in one process.
        if settings.environment is not Environment.TEST:
            gc.collect()
            gc.freeze()
        # Few request threads: Python threads share one interpreter lock, and dozens of them
        # handing it to each other across cores cost more than they overlap (measured:
        # bench/web.py, docs/benchmarks.md).
        to_thread.current_default_thread_limiter().total_tokens = settings.web_threads
        worker = Worker(rt) if settings.worker_in_process else None
        if worker is not None:
            worker.start_thread()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if runtime is None:
                rt.close()

    app = FastAPI(
        title="CivicShield API",
        version=__version__,
        description="REST API of CivicShield. Conventions: see docs/api.md.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        lifespan=lifespan,
    )
    app.state.runtime = rt
    api.install(app, rt)
    taxii.install(app, rt)
    web.install(app, rt)

    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/api/"):
            return api.error_response(request, exc)
        if request.url.path.startswith(taxii.TAXII_PREFIX + "/"):
            return taxii.error_response(request, exc)
        return web.error_response(request, exc)

    app.add_exception_handler(CivicShieldError, handle)
    app.add_exception_handler(StarletteHTTPException, handle)
    app.add_exception_handler(RequestValidationError, handle)
    # Middleware added last runs first: body limit, then headers, then the catch-all for
    # anything unhandled (kept inside so 500 pages get the security headers too).
    app.add_middleware(CatchAllMiddleware, handler=handle)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.cookie_secure is True)
    evidence = re.compile(r"(/api/v1)?/incidents/\d+/evidence")  # uploads: their own limit
    taxii_paths = re.compile(re.escape(taxii.TAXII_PREFIX) + r"/.*")  # API roots' own limits
    app.add_middleware(
        BodySizeLimitMiddleware,
        limit=settings.max_body_bytes,
        html_page=web.too_large_page,
        larger=[
            (evidence, max(settings.max_body_bytes, settings.evidence_max_bytes + 65_536)),
            (taxii_paths, max(settings.max_body_bytes, settings.taxii_max_content_length)),
        ],
    )
    return app
