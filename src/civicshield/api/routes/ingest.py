"""`/api/v1/ingest`: telemetry pushed by sensors and forwarders (events:ingest), and the health
of every ingest source (alerts:read to see, alerts:suppress to set expected intervals).

`POST /api/v1/ingest/{dataset}` takes NDJSON (`application/x-ndjson`, one JSON object per line)
or a JSON array of objects (`application/json`), optionally gzip-compressed
(`Content-Encoding: gzip`). The body is read with the dataset's reader (`suricata…` → EVE,
`zeek.…` → Zeek JSON, `syslog`, `cef` as text lines, anything else → generic JSON objects);
records that do not read are quarantined with their line (or array element) number, the rest is
accepted: 202 with the counts. A full detection queue answers 503 with `Retry-After`.

With an `Idempotency-Key` header (1-255 visible ASCII characters, per sender), a retry of the
same body to the same dataset within `ingest_idempotency_hours` gets the first answer again
(`Idempotent-Replayed: true`) and stores nothing; the same key with another body is a 422
(`telemetry.receipts`).
"""

from __future__ import annotations

import gzip
import zlib
from datetime import timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Path, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from civicshield import telemetry
from civicshield.accounts import Permission
from civicshield.api.deps import PrincipalDep, RuntimeDep, SessionDep, require
from civicshield.api.openapi import problems, resource_router
from civicshield.core.errors import Invalid, TooLarge
from civicshield.telemetry import receipts

__all__ = ["router"]

router = resource_router("/ingest", "ingest")
INGEST = [Depends(require(Permission.EVENTS_INGEST))]
READ = [Depends(require(Permission.ALERTS_READ))]
SUPPRESS = [Depends(require(Permission.ALERTS_SUPPRESS))]
_INFLATE_FACTOR = 10  # a gzip body may inflate to this many times the size limit
_JSON_TYPES = ("application/json",)
_LINE_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-seq", "text/plain")


class IngestAccepted(BaseModel):
    dataset: str
    format: str
    received: int = Field(description="Records in the body (blank lines are not records).")
    accepted: int = Field(description="Records read and queued for detection and storage.")
    quarantined: int = Field(description="Records that did not read (see the quarantine).")
    datasets: dict[str, int] = Field(description="Accepted records per stored dataset.")
    reasons: list[str] = Field(description="The first quarantine reasons, with positions.")


async def _body(request: Request, limit: int) -> bytes:
    """The body, inflated when gzip; 413 over the limit (as sent, or inflated)."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise TooLarge(f"the body is larger than the ingest limit of {limit:,} bytes")
    encoding = request.headers.get("content-encoding", "identity").lower()
    if encoding in ("identity", ""):
        return bytes(data)
    if encoding not in ("gzip", "x-gzip"):
        raise Invalid(f"unsupported Content-Encoding {encoding!r}; send gzip or nothing")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(bytes(data), limit * _INFLATE_FACTOR)
        if inflater.unconsumed_tail:
            raise TooLarge(
                f"the body inflates past {limit * _INFLATE_FACTOR:,} bytes "
                f"({_INFLATE_FACTOR}x the ingest limit)"
            )
        out += inflater.flush()
    except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
        raise Invalid(f"the gzip body is corrupt: {exc}") from exc
    return out


def _lines(data: bytes, content_type: str) -> list[tuple[int, bytes]]:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind in _JSON_TYPES:
        try:
            value: Any = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Invalid(f"the body is not JSON: {exc}") from exc
        items = value if isinstance(value, list) else [value]
        return [(n, orjson.dumps(item)) for n, item in enumerate(items, start=1)]
    if kind in _LINE_TYPES or not kind:
        return list(enumerate((line.rstrip(b"\r") for line in data.split(b"\n")), start=1))
    raise UnsupportedMedia(kind)


class UnsupportedMedia(Invalid):
    title = "Unsupported media type"
    status = 415
    slug = "unsupported-media-type"

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"cannot read {kind!r} bodies; send application/x-ndjson or application/json"
        )


@router.post(
    "/{dataset}",
    dependencies=INGEST,
    status_code=202,
    responses=problems(409, 413, 415, 503),
    summary="Send telemetry",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            }
        }
    },
)
async def ingest(
    dataset: Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")],
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Makes a retry safe: the same key and body get the first answer again "
            "and store nothing (kept `ingest_idempotency_hours`).",
        ),
    ] = None,
) -> IngestAccepted:
    """Read, quarantine and queue the records for detection (see the module notes)."""
    data = await _body(request, runtime.settings.ingest_max_bytes)
    lines = _lines(data, request.headers.get("content-type", ""))
    fmt = telemetry.format_for_dataset(dataset)
    source = f"{dataset}@{principal.actor.name}"
    settings = runtime.settings

    def take() -> tuple[dict[str, Any], bool]:  # parsing and the database off the event loop
        with runtime.session() as session:
            receipt = None
            if idempotency_key is not None:
                claimed = receipts.claim(
                    session,
                    sender=principal.actor.name,
                    key=idempotency_key,
                    dataset=dataset,
                    body_sha256=receipts.digest(dataset, data),
                    now=runtime.clock.now(),
                    keep=timedelta(hours=settings.ingest_idempotency_hours),
                )
                if isinstance(claimed, dict):
                    return claimed, True
                receipt = claimed
            report = telemetry.intake(
                session,
                settings,
                registry=runtime.jobs,
                clock=runtime.clock,
                kind="http",
                source=source,
                lines=lines,
                fmt=fmt,
                dataset=dataset,
            )
            answer = {k: v for k, v in report.to_dict().items() if k != "source"}
            if receipt is not None:
                receipts.finish(session, receipt, answer)
            return answer, False

    answer, replayed = await run_in_threadpool(take)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return IngestAccepted(dataset=dataset, **answer)


class SourceRead(BaseModel):
    id: int
    name: str
    kind: str
    dataset: str
    status: str = Field(description="ok, silent or learning (too new to know its rhythm).")
    events_total: int
    quarantined_total: int
    events_per_second: float = Field(description="Over the last five minutes.")
    last_received_at: str
    last_event_at: str | None
    lag_seconds: float | None = Field(description="Newest event time to detection, last batch.")
    expected_interval_seconds: int | None
    learned_interval_seconds: int | None
    silent_since: str | None


@router.get("/sources", dependencies=READ, summary="Ingest health per source")
def list_sources(session: SessionDep, runtime: RuntimeDep) -> list[SourceRead]:
    found = telemetry.list_sources(
        session, clock=runtime.clock, factor=runtime.settings.source_silence_factor
    )
    return [SourceRead(**h.to_dict()) for h in found]


class DatasetRead(BaseModel):
    dataset: str
    sources: int
    events_per_second: float = Field(description="Over the last five minutes.")
    events_last_day: int
    quarantined_last_day: int
    last_event_at: str | None
    lag_seconds: float | None = Field(description="The largest lag of its sources.")


@router.get("/datasets", dependencies=READ, summary="Ingest health per dataset")
def list_datasets(session: SessionDep, runtime: RuntimeDep) -> list[DatasetRead]:
    return [
        DatasetRead(**d.to_dict()) for d in telemetry.list_datasets(session, clock=runtime.clock)
    ]


class SourceUpdate(BaseModel):
    expected_interval_seconds: int | None = Field(
        description="Seconds the source may stay silent (times the silence factor); null: learn it."
    )


@router.patch("/sources/{source_id}", dependencies=SUPPRESS, summary="Set a source's interval")
def update_source(
    source_id: int,
    body: SourceUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: PrincipalDep,
) -> SourceRead:
    telemetry.set_expected_interval(
        session,
        source_id,
        body.expected_interval_seconds,
        actor=principal.actor,
        clock=runtime.clock,
    )
    session.flush()
    for health in telemetry.list_sources(session, clock=runtime.clock):
        if health.id == source_id:
            return SourceRead(**health.to_dict())
    raise AssertionError("the source was just updated")  # pragma: no cover
