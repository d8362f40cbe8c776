"""A small TAXII 2.1 server for the client's tests: one API root, collections with
permissions, objects with date_added, `added_after` / `limit` / `next` paging with the
X-TAXII-Date-Added-* headers, add objects with a status that can stay pending for a few
polls, HTTP Basic auth, and `fail_next` 503 answers to exercise retries."""

from __future__ import annotations

import base64
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TAXII = "application/taxii+json;version=2.1"
START = datetime(2026, 11, 1, tzinfo=UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FakeTaxii:
    user: str = "peer"
    password: str = "peer-secret"
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    fail_next: int = 0  # answer 503 to this many requests
    pending_polls: int = 0  # a new status stays pending for this many status reads
    requests: list[str] = field(default_factory=list)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    _tick: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_collection(self, cid: str, *, can_read: bool = True, can_write: bool = True) -> None:
        self.collections[cid] = {
            "id": cid, "title": f"Collection {cid}", "can_read": can_read,
            "can_write": can_write, "media_types": [TAXII.replace("taxii", "stix")],
        }  # fmt: skip
        self.objects.setdefault(cid, [])

    def put(self, cid: str, obj: dict[str, Any]) -> str:
        with self._lock:
            self._tick += 1
            added = stamp(START + timedelta(seconds=self._tick))
            self.objects[cid].append((added, obj))
            return added

    # -- HTTP ----------------------------------------------------------------
    def _json(
        self, body: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return JSONResponse(body, status_code=status, media_type=TAXII, headers=headers)

    def _gate(self, request: Request) -> Response | None:
        self.requests.append(f"{request.method} {request.url.path}?{request.url.query}")
        if self.fail_next > 0:
            self.fail_next -= 1
            return Response("busy", status_code=503)
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return self._json({"title": "unauthorized"}, 401)
        return None

    async def discovery(self, request: Request) -> Response:
        if (denied := self._gate(request)) is not None:
            return denied
        root = str(request.base_url) + "api1/"
        return self._json({"title": "Fake peer", "api_roots": [root], "default": root})

    async def api_root(self, request: Request) -> Response:
        if (denied := self._gate(request)) is not None:
            return denied
        return self._json(
            {"title": "Trust group", "versions": [TAXII], "max_content_length": 10_000_000}
        )

    async def collection_list(self, request: Request) -> Response:
        if (denied := self._gate(request)) is not None:
            return denied
        return self._json({"collections": list(self.collections.values())})

    async def collection(self, request: Request) -> Response:
        if (denied := self._gate(request)) is not None:
            return denied
        col = self.collections.get(request.path_params["cid"])
        return self._json(col) if col else self._json({"title": "no such collection"}, 404)

    async def objects_endpoint(self, request: Request) -> Response:
        if (denied := self._gate(request)) is not None:
            return denied
        cid = request.path_params["cid"]
        if request.method == "POST":
            return self._add(cid, await request.json())
        after = request.query_params.get("added_after")
        rows = [r for r in self.objects.get(cid, []) if not after or r[0] > after]
        start = int(request.query_params.get("next") or 0)
        limit = int(request.query_params.get("limit") or 1000)
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        body: dict[str, Any] = {"more": more, "objects": [o for _, o in page]}
        if more:
            body["next"] = str(start + limit)
        headers = {}
        if page:
            headers = {
                "X-TAXII-Date-Added-First": page[0][0],
                "X-TAXII-Date-Added-Last": page[-1][0],
            }
        return self._json(body, headers=headers)

    def _add(self, cid: str, envelope: dict[str, Any]) -> Response:
        objs = envelope.get("objects", [])
        good = [o for o in objs if isinstance(o, dict) and "id" in o]
        for obj in good:
            self.put(cid, obj)
        sid = str(uuid.uuid4())
        status = {
            "id": sid, "status": "pending" if self.pending_polls else "complete",
            "total_count": len(objs), "success_count": len(good),
            "failure_count": len(objs) - len(good), "pending_count": 0,
            "_polls": self.pending_polls,
        }  # fmt: skip
        self.statuses[sid] = status
        return self._json({k: v for k, v in status.items() if not k.startswith("_")}, 202)

    async def status(self, request: Request) -> Response:
        if (denied := self._gate(request)) is not None:
            return denied
        status = self.statuses[request.path_params["sid"]]
        status["_polls"] -= 1
        if status["_polls"] <= 0:
            status["status"] = "complete"
        return self._json({k: v for k, v in status.items() if not k.startswith("_")})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/taxii2/", self.discovery),
                Route("/api1/", self.api_root),
                Route("/api1/collections/", self.collection_list),
                Route("/api1/collections/{cid}/", self.collection),
                Route(
                    "/api1/collections/{cid}/objects/",
                    self.objects_endpoint,
                    methods=["GET", "POST"],
                ),
                Route("/api1/status/{sid}/", self.status),
            ]
        )
