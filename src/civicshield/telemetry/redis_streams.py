"""Redis Streams: the ingest side of the scale-out mode (`CIVICSHIELD_REDIS_URL` set).

Each dataset has one stream, `civicshield:events:<dataset>`, listed in the set
`civicshield:streams` so workers find every stream. One stream entry carries one chunk of up to
`ENTRY_EVENTS` parsed events as Arrow IPC bytes (the same columns the spool keeps) plus its
dataset, event count and source. The hash `civicshield:waiting` counts, per stream, the events
appended and not yet acknowledged: that is what back-pressure reads (a group's `lag` counts
entries, not events, and exists only once a worker has created the group).

`XADD … MAXLEN ~` bounds a stream, but trimming drops entries whether or not a worker has read
them, so it is only a safety net set well above the back-pressure threshold: ingest refuses new
data (`Overloaded`) once `stream_maxlen` events wait, long before trimming could bite.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import polars as pl
import redis

from civicshield.core import Settings
from civicshield.core.errors import Invalid, Overloaded
from civicshield.detect.eventstore import check_name

__all__ = [
    "ENTRY_EVENTS",
    "REGISTRY",
    "STREAM_PREFIX",
    "WAITING",
    "append",
    "check_room",
    "connect",
    "decode_entry",
    "read_entries",
    "stream_name",
    "streams",
    "text_of",
    "waiting",
]

STREAM_PREFIX = "civicshield:events:"
REGISTRY = "civicshield:streams"
WAITING = "civicshield:waiting"
ENTRY_EVENTS = 20_000  # events per entry: alert writes cost per entry; a redelivery redoes one
_RETRY_AFTER = 5


@lru_cache(maxsize=8)
def _client(url: str) -> redis.Redis:
    # One client (and so one connection pool) per URL for the process: intake runs per request.
    return redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)


def connect(settings: Settings) -> redis.Redis:
    """The client for `CIVICSHIELD_REDIS_URL`; `Invalid` when the setting is unset."""
    if not settings.redis_url:
        raise Invalid("CIVICSHIELD_REDIS_URL is not set: the Redis Streams mode is off")
    return _client(settings.redis_url)


def stream_name(dataset: str) -> str:
    return STREAM_PREFIX + check_name(dataset)


def streams(client: redis.Redis) -> list[str]:
    """Every dataset stream ingest has written to, sorted."""
    return sorted(text_of(name) for name in client.smembers(REGISTRY))


def waiting(client: redis.Redis, dataset: str | None = None) -> int:
    """Events appended and not yet acknowledged: for `dataset`, else the most of any stream."""
    if dataset is not None:
        return max(0, int(client.hget(WAITING, stream_name(dataset)) or 0))
    values = client.hvals(WAITING)
    return max((int(v) for v in values), default=0)


def check_room(client: redis.Redis, settings: Settings, dataset: str | None = None) -> None:
    """Raise `Overloaded` when `dataset`'s stream (else any stream) holds `stream_maxlen`
    events or more that no worker has acknowledged."""
    try:
        held = waiting(client, dataset)
    except redis.RedisError as exc:
        raise _unreachable(exc) from exc
    if held >= settings.stream_maxlen:
        where = f"the {dataset} stream" if dataset else "a detection stream"
        raise Overloaded(
            f"{where} holds {held:,} unprocessed events (limit {settings.stream_maxlen:,}); "
            "retry shortly",
            retry_after=_RETRY_AFTER,
        )


def append(
    client: redis.Redis,
    settings: Settings,
    dataset: str,
    frame: pl.DataFrame,
    *,
    source: str,
    chunk: int = ENTRY_EVENTS,
) -> list[str]:
    """Append `frame` to `dataset`'s stream, one entry per `chunk` events, in one MULTI so a
    reader never sees half a request; return the entry ids. No back-pressure check here: call
    `check_room` before parsing (parsed data is never refused)."""
    if chunk < 1:
        raise Invalid("a stream entry holds at least one event")
    name = stream_name(dataset)
    if frame.height == 0:
        return []
    limit = 2 * settings.stream_maxlen  # entries; each holds >= 1 event: see the docstring
    pipe = client.pipeline(transaction=True)
    for start in range(0, frame.height, chunk):
        part = frame.slice(start, chunk)
        fields: dict[Any, Any] = {
            "v": 1,
            "dataset": dataset,
            "events": part.height,
            "source": source,
            "data": _encode(part),
        }
        pipe.xadd(name, fields, maxlen=limit, approximate=True)
    pipe.sadd(REGISTRY, name)
    pipe.hincrby(WAITING, name, frame.height)
    try:
        replies = pipe.execute()
    except redis.RedisError as exc:  # MULTI: nothing of this request was appended
        raise _unreachable(exc) from exc
    return [text_of(ident) for ident in replies[:-2]]


def decode_entry(fields: dict[bytes, bytes]) -> tuple[str, pl.DataFrame]:
    """(dataset, frame) of one stream entry; `Invalid` naming what is wrong with it."""
    try:
        version = int(fields[b"v"])
        dataset = check_name(fields[b"dataset"].decode())
        data = fields[b"data"]
    except KeyError as exc:
        raise Invalid(f"stream entry lacks the field {exc.args[0].decode()!r}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"stream entry has a bad header: {exc}") from exc
    if version != 1:
        raise Invalid(f"stream entry version {version} is not understood (expected 1)")
    try:
        frame = pl.read_ipc(io.BytesIO(data))
    except Exception as exc:  # Arrow raises several types for bad bytes
        raise Invalid(f"stream entry data is not Arrow IPC: {exc}") from exc
    return dataset, frame


def read_entries(reply: Any) -> list[tuple[str, str, dict[bytes, bytes]]]:
    """(stream, entry id, fields) of an XREADGROUP reply, RESP2 (a list) or RESP3 (a map);
    entries deleted since their delivery (empty fields) are left out."""
    if not reply:
        return []
    pairs = reply.items() if isinstance(reply, dict) else reply
    found: list[tuple[str, str, dict[bytes, bytes]]] = []
    for stream, messages in pairs:
        if messages and isinstance(messages[0], list) and isinstance(reply, dict):
            messages = messages[0]
        found.extend(
            (text_of(stream), text_of(ident), fields) for ident, fields in messages if fields
        )
    return found


def _unreachable(exc: Exception) -> Overloaded:
    return Overloaded(
        f"the detection streams are unavailable ({exc}); retry shortly", retry_after=_RETRY_AFTER
    )


def _encode(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer, compression="lz4")
    return buffer.getvalue()


def text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
