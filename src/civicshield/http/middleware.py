"""Pure ASGI middleware: strict security headers on every response, and a request-body limit."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "BodySizeLimitMiddleware", "CatchAllMiddleware", "SecurityHeadersMiddleware"]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app, self.hsts = app, hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if scope.get("scheme") == "https" or self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=63072000")
                if "cache-control" not in headers and not scope["path"].startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuse request bodies larger than `limit` bytes with 413, before the app reads them.
    `html_page(scope, limit)`, when given, renders the refusal for non-API paths (the web
    layer's error page), since this middleware answers before any route or handler runs."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        html_page: Callable[[Scope, int], bytes] | None = None,
        larger: Sequence[tuple[re.Pattern[str], int]] = (),
    ) -> None:
        self.app, self.limit, self.html_page = app, limit, html_page
        self.larger = tuple(larger)  # (path pattern, limit): uploads such as case evidence

    def limit_for(self, scope: Scope) -> int:
        path = scope.get("path", "")
        return next((n for pattern, n in self.larger if pattern.fullmatch(path)), self.limit)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        limit = self.limit_for(scope)
        detail = f"the request body is larger than the limit of {limit} bytes"
        if scope["path"].startswith("/api/"):
            body = json.dumps(
                {
                    "type": "https://civicshield.example/problems/too-large",
                    "title": "Payload too large",
                    "status": 413,
                    "detail": detail,
                    "instance": scope["path"],
                    "errors": [],
                }
            ).encode()
            ctype = b"application/problem+json"
        elif self.html_page is not None:
            body, ctype = self.html_page(scope, limit), b"text/html; charset=utf-8"
        else:
            body = f"413 Payload too large: {detail}".encode()
            ctype = b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._refuse(scope, send)
                    return
        if not any(name == b"transfer-encoding" for name, _ in scope.get("headers", [])):
            await self.app(scope, receive, send)
            return
        # A chunked body has no declared length: read it (up to the limit) before the app does.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replay: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def replay_receive() -> Message:
            return replay.pop() if replay else await receive()

        await self.app(scope, replay_receive, send)


class CatchAllMiddleware:
    """Turn an unhandled exception into the app's own error response (problem+json or page),
    inside the security-headers middleware, so a 500 carries the same headers as any other
    response and is logged once (by the handler), not again by the server."""

    def __init__(
        self, app: ASGIApp, *, handler: Callable[[Request, Exception], Awaitable[Response]]
    ) -> None:
        self.app, self.handler = app, handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # too late for an error page; let the server close the connection
                raise
            response = await self.handler(Request(scope, receive), exc)
            await response(scope, receive, send)
