"""Event readers: files → Polars frames with an explicit schema (never inferred)."""

from civicshield.detect.readers.evtx import flatten_event, read_evtx, read_evtx_json
from civicshield.detect.readers.jsonl import BadLine, JsonlBatch, batch_from_lines, read_jsonl

__all__ = [
    "BadLine",
    "JsonlBatch",
    "batch_from_lines",
    "flatten_event",
    "read_evtx",
    "read_evtx_json",
    "read_jsonl",
]
