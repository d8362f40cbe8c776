"""Windows event logs: `.evtx` files (parsed by the `evtx` package, the Rust `evtx` crate) and
the nested evtx-JSON rendering of events (SigmaHQ's regression data), flattened to the native
field names of flat Windows JSON and turned into the same batches as `read_jsonl`.

The nested shape is what `evtx.PyEvtxParser.records_json()` renders:
`{"Event": {"System": {...}, "EventData": {...} | "UserData": {...}}}`, XML attributes under
`#attributes`, an element's text beside attributes under `#text`. `flatten_event` rules:

* Every scalar leaf becomes a top-level key named after its element or attribute (the last
  path segment): `Event.System.Channel` → `Channel`, `Event.System.Execution.#attributes.ThreadID`
  → `ThreadID`, `EventID: {"#attributes": {"Qualifiers": 0}, "#text": 800}` → `EventID` (the
  text) and `Qualifiers`. One exception: the provider's `Name` attribute is `Provider_Name`.
* Named `<Data Name="X">` elements are already `X` keys in the nested shape; UserData leaves are
  named the same way at any depth (`UserData.LogFileCleared.SubjectUserName` → `SubjectUserName`).
  Namespace attributes (`xmlns`, `xmlns:*`) are dropped.
* Unnamed `<Data>` elements (classic sources such as PowerShell 400/600/800) become one `Data`
  string, the elements joined by a line feed: Sigma rules match `Data` as text (`Data|contains`,
  `Data|re`), which a JSON list rendering would break (escaped backslashes and line breaks).
  Any other list of values is joined the same way.
* Value types are kept (numbers stay numbers, booleans stay booleans); `null` leaves are dropped
  (absent and null read the same); empty strings are kept (Sigma's `Field: ''` matches them).
* Collision rule: System wins. A payload leaf (EventData/UserData) named like a System leaf
  (Security 5156's `ProcessID`, Sysmon 4's `Version`) is kept as `EventData_<name>` /
  `UserData_<name>`, never dropped. Reasons: log-source routing (`Channel`, `EventID`) must not
  depend on the payload; the SigmaHQ rules that name such fields mean the System one (`Level`,
  `Keywords`); and Zircolite-flattened JSON (`events.jsonl`) keeps the System value too. Other
  top-level parts (`RenderingInfo` of forwarded events) only fill names still free. Within one
  part, the later leaf in document order wins.

Differences from `events.jsonl` of the shared EVTX-ATTACK-SAMPLES, which Zircolite flattened
with its own renames (see `tests/integration/detect/test_evtx_twin.py`): it renames
`TargetFilename` → `TargetFileName` and `SamAccountName` → `SAMAccountName`, writes unnamed
`<Data>` as `Message` holding a Python list repr, adds `MD5`/`SHA1`/`SHA256`/`IMPHASH` split from
`Hashes`, and drops empty strings. We keep the names Sigma rules use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from civicshield.detect.readers.jsonl import (
    DEFAULT_BATCH_SIZE,
    BadLine,
    JsonlBatch,
    batch_from_lines,
)

__all__ = ["flatten_event", "read_evtx", "read_evtx_json"]

_ATTRS = "#attributes"
_TEXT = "#text"
_PAYLOAD_PARTS = ("EventData", "UserData")
_RECORD_NUMBER = re.compile(r"record number (\d+)")
_FILE_HEADER = 4096  # EVTX file header block, then 64 KiB chunks (libyal's EVTX format notes)
_CHUNK = 65536
_MAX_CONSECUTIVE_ERRORS = 10_000  # a parser that keeps failing without progress: stop the file

Scalar = str | int | float | bool


def flatten_event(obj: dict[str, Any]) -> dict[str, Any]:
    """One nested evtx-JSON event → one flat dict (rules in the module docstring). `obj` may be
    the whole document (`{"Event": {...}}`) or the `Event` object itself."""
    event = obj.get("Event", obj)
    if not isinstance(event, dict):
        return {}
    flat: dict[str, Any] = {}
    _leaves(event.get("System"), "System", flat)
    system = frozenset(flat)
    others: list[tuple[str, Any]] = []
    for part, value in event.items():
        if part in _PAYLOAD_PARTS:
            payload: dict[str, Any] = {}
            _leaves(value, part, payload)
            for name, leaf in payload.items():
                flat[f"{part}_{name}" if name in system else name] = leaf
        elif part not in ("System", _ATTRS):
            others.append((part, value))
    for part, value in others:  # e.g. RenderingInfo: it only renders what is already there
        extra: dict[str, Any] = {}
        _leaves(value, part, extra)
        for name, leaf in extra.items():
            flat.setdefault(name, leaf)
    return flat


def _leaves(node: Any, name: str, out: dict[str, Any]) -> None:
    if node is None:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            if key == _ATTRS:
                if isinstance(value, dict):
                    for attr, attr_value in value.items():
                        if attr != "xmlns" and not attr.startswith("xmlns:"):
                            leaf = "Provider_Name" if (name, attr) == ("Provider", "Name") else attr
                            _leaves(attr_value, leaf, out)
            elif key == _TEXT:
                _leaves(value, name, out)
            else:
                _leaves(value, key, out)
        return
    if isinstance(node, list):
        texts = [_list_item(item) for item in node if item is not None]
        out[name] = texts[0] if len(texts) == 1 else "\n".join(str(t) for t in texts)
        return
    out[name] = node


def _list_item(item: Any) -> Scalar:
    if isinstance(item, str | int | float | bool):
        return item
    return orjson.dumps(item).decode()


def read_evtx(
    path: Path,
    fields: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    values: bool = False,
) -> Iterator[JsonlBatch]:
    """Batches of the records of an `.evtx` file, flattened (`flatten_event`), with `_line` = the
    record number from the record header (`event_record_id`: 1-based in exported files; the
    `EventRecordID` field keeps the System value). A record the parser cannot read is a `BadLine`
    (record number and the parser's reason) and is skipped; the rest of the file is still read.
    A file whose size is not a whole number of chunks gets one `BadLine` saying it is truncated
    (the parser skips an incomplete chunk). Raises `OSError` when the file cannot be opened or
    is not an EVTX file."""
    import evtx  # local: only EVTX input needs the native module

    wanted = list(fields)
    source = str(path)
    try:
        parser = evtx.PyEvtxParser(str(path), validate_checksums=False)
    except (FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except (OSError, RuntimeError) as exc:  # the parser raises OSError for a bad header too
        raise OSError(f"{source}: not a readable EVTX file: {exc}") from exc
    records = parser.records_json()
    lines: list[tuple[int, bytes]] = []
    bad: list[BadLine] = []
    tail = (path.stat().st_size - _FILE_HEADER) % _CHUNK
    last = 0
    errors = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except RuntimeError as exc:
            found = _RECORD_NUMBER.search(str(exc))
            bad.append(BadLine(source, int(found[1]) if found else last + 1, f"evtx: {exc}"))
            errors += 1
            if errors >= _MAX_CONSECUTIVE_ERRORS:
                bad.append(BadLine(source, last + 1, "evtx: too many errors, rest skipped"))
                break
            continue
        if record is None:  # the stub's Optional; the iterator ends with StopIteration
            break
        errors = 0
        last = int(record["event_record_id"])
        try:
            nested = orjson.loads(record["data"])
        except orjson.JSONDecodeError as exc:
            bad.append(BadLine(source, last, f"evtx: invalid JSON rendering: {exc}"))
            continue
        lines.append((last, _flat_json(nested)))
        if len(lines) >= batch_size:
            yield _batch(source, lines, wanted, values, bad)
            lines, bad = [], []
    if tail:  # the parser silently ignores an incomplete last chunk: say so
        bad.append(BadLine(source, last + 1, f"evtx: file truncated ({tail} bytes of a chunk)"))
    if lines or bad:
        yield _batch(source, lines, wanted, values, bad)


def read_evtx_json(
    path: Path,
    fields: Iterable[str],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    values: bool = False,
) -> Iterator[JsonlBatch]:
    """Batches of nested evtx-JSON events from a text file, flattened (`flatten_event`), with
    `_line` = the event's 1-based position in the file. Accepted layouts: one event; events one
    after another, pretty-printed and concatenated (SigmaHQ's regression `.json` files) or one
    per line (JSON lines); a top-level array of events. A value that is not a JSON object is a
    `BadLine`; text that is not JSON is one `BadLine` and ends the file (the events before it
    are kept). Raises `OSError` when the file cannot be read."""
    wanted = list(fields)
    source = str(path)
    lines: list[tuple[int, bytes]] = []
    bad: list[BadLine] = []
    number = 0
    documents = _documents(path.read_bytes().decode("utf-8-sig", errors="replace"))
    try:
        for number, document in enumerate(documents, start=1):
            if isinstance(document, dict):
                lines.append((number, _flat_json(document)))
            else:
                reason = f"not a JSON object ({type(document).__name__})"
                bad.append(BadLine(source, number, reason))
            if len(lines) >= batch_size:
                yield _batch(source, lines, wanted, values, bad)
                lines, bad = [], []
    except json.JSONDecodeError as exc:
        bad.append(BadLine(source, number + 1, f"invalid JSON: {exc}"))
    if lines or bad:
        yield _batch(source, lines, wanted, values, bad)


def _documents(text: str) -> Iterator[Any]:
    """The JSON values of `text`, one after another (a top-level array: its elements). The
    stdlib decoder, because orjson has no incremental `raw_decode`."""
    decoder = json.JSONDecoder()
    position = 0
    end = len(text)
    while True:
        while position < end and text[position].isspace():
            position += 1
        if position >= end:
            return
        value, position = decoder.raw_decode(text, position)
        if isinstance(value, list):
            yield from value
        else:
            yield value


def _flat_json(nested: dict[str, Any]) -> bytes:
    return orjson.dumps(flatten_event(nested))


def _batch(
    source: str,
    lines: list[tuple[int, bytes]],
    fields: list[str],
    values: bool,
    bad: list[BadLine],
) -> JsonlBatch:
    batch = batch_from_lines(source, lines, fields, values=values)
    batch.bad_lines[:0] = bad
    return batch
