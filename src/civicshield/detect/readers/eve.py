"""Suricata EVE JSON (one event object per line) → one frame per event type and batch.

Columns: every key of the batch's events, nested objects flattened to dotted names
(`alert.signature_id`, `flow.bytes_toserver`); values as the text Suricata wrote (numbers and
booleans as text, arrays as JSON text: `dns.answers`, `dns.queries`); plus `KNOWN_FIELDS` of the
event type (null when absent), the ECS columns, `_raw` and `_line`. `event.dataset` is
`suricata.<event_type>`.

Keys are collected from every line, never sampled: each line's *shape* (its key tokens with the
brackets next to them, exact for valid JSON because a string cannot contain an unescaped `"`)
is taken with one Polars regex pass, one line per distinct shape is parsed with orjson, and the
union of their key paths is the explicit schema Polars reads the batch with. A key that is an
object in some events and not in others is kept whole, as JSON text. Lines Polars refuses are
read one by one (orjson) so that each malformed one is quarantined with its line number.

Projection (`fields=`): only the named dotted fields, the event type's `KNOWN_FIELDS`, the
ECS sources and `_raw`/`_line` are read, with an explicit struct schema and no key discovery
(GUIDE §2: what continuous detection needs). Measured with Polars 2.1 on one core, 1M
replicated sample events: every key ≈25-30k events/s, projection ≈75k events/s; Polars'
JSON reader itself bounds both (even the 18 common top-level keys alone read at ≈160k/s).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from civicshield.core.errors import Invalid
from civicshield.detect.engine.values import scalar_text
from civicshield.detect.readers.base import (
    ECS_SCHEMA,
    LINE_FIELD,
    RAW_FIELD,
    Quarantined,
    ReadResult,
    line_blocks,
    open_input,
    with_ecs,
)

__all__ = ["KNOWN_FIELDS", "flatten_object", "parse_eve_lines", "read_eve", "read_json_objects"]

_COMMON = (
    "timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip", "dest_port",
    "proto", "app_proto", "community_id", "in_iface", "pcap_cnt", "pkt_src", "tx_id", "direction",
    "icmp_type", "icmp_code", "host",
)  # fmt: skip
_HTTP = ("http.hostname", "http.url", "http.http_user_agent", "http.http_method", "http.status",
         "http.http_content_type", "http.http_refer", "http.protocol", "http.length")  # fmt: skip
_DNS = ("dns.version", "dns.type", "dns.id", "dns.rrname", "dns.rrtype", "dns.rcode",
        "dns.queries", "dns.answers", "dns.query")  # fmt: skip
_TLS = ("tls.sni", "tls.subject", "tls.issuerdn", "tls.serial", "tls.fingerprint",
        "tls.version", "tls.notbefore", "tls.notafter", "tls.ja3.hash",
        "tls.ja3s.hash")  # fmt: skip
_FILE = ("fileinfo.filename", "fileinfo.magic", "fileinfo.size", "fileinfo.state",
         "fileinfo.md5", "fileinfo.sha1", "fileinfo.sha256", "fileinfo.stored")  # fmt: skip

# The documented fields of each event type (Suricata 7 EVE format); every batch frame of that
# type has them as columns even when no event of the batch carries them, so rules and ECS
# expressions can rely on them. Keys not listed here are still kept (see the module docstring).
KNOWN_FIELDS: dict[str, tuple[str, ...]] = {
    "alert": ("alert.action", "alert.gid", "alert.signature_id", "alert.rev",
              "alert.signature", "alert.category", "alert.severity", *_HTTP, *_DNS, *_TLS),
    "anomaly": ("anomaly.type", "anomaly.event", "anomaly.layer", "anomaly.app_proto"),
    "flow": ("flow.pkts_toserver", "flow.pkts_toclient", "flow.bytes_toserver",
             "flow.bytes_toclient", "flow.start", "flow.end", "flow.age", "flow.state",
             "flow.reason", "flow.alerted", "tcp.tcp_flags", "tcp.state"),
    "dns": _DNS,
    "http": _HTTP,
    "tls": _TLS,
    "fileinfo": (*_FILE, *_HTTP),
    "smtp": ("smtp.helo", "smtp.mail_from", "smtp.rcpt_to", "email.from", "email.to",
             "email.subject", "email.status"),
    "ssh": ("ssh.client.proto_version", "ssh.client.software_version",
            "ssh.server.proto_version", "ssh.server.software_version"),
    "ftp": ("ftp.command", "ftp.command_data", "ftp.reply", "ftp.completion_code"),
    "modbus": ("modbus.id", "modbus.request.function_code", "modbus.request.unit_id",
               "modbus.response.function_code"),
    "dnp3": ("dnp3.type", "dnp3.src", "dnp3.dst", "dnp3.application.function_code",
             "dnp3.control.function_code"),
    "stats": ("stats.uptime",),
}  # fmt: skip

_KEY = r'"[^"\\]*(?:\\.[^"\\]*)*"'
# A key token with the brackets right before it: inside a JSON string a `"` is always escaped,
# so `{"`, `,"`, `},"` can only be structure. The tokens of a line fix its key paths.
_SHAPE = r"[}\]]*[\[,]*[{,]\s*" + _KEY + r"\s*:"
_TYPE_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")
_SLOW_BELOW = 256
_CONTROL = "[\x00-\x1f]"
_CONTROLS = [chr(c) for c in range(32)]
_ESCAPED = [f"\\u{c:04x}" for c in range(32)]
_TS_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.fZ")


def read_eve(
    path: Path,
    *,
    batch_size: int = 100_000,
    source: str | None = None,
    fields: Iterable[str] | None = None,
) -> Iterator[ReadResult]:
    """Batches of at most `batch_size` lines of an EVE file (plain, gzip or zstd), one
    `ReadResult` per event type in each batch (plus one `suricata` result holding the batch's
    quarantined lines, when there are any). With `fields` (dotted names), only those, the
    event type's `KNOWN_FIELDS` and the ECS sources are read (projection: much faster)."""
    name = source or str(path)
    wanted = None if fields is None else tuple(fields)
    try:
        with open_input(path) as stream:
            lines: list[bytes] = []
            numbers: list[int] = []
            for start, block in line_blocks(stream):  # whole blocks, sliced into batches
                at = 0
                while at < len(block):
                    take = block[at : at + batch_size - len(lines)]
                    numbers += range(start + at, start + at + len(take))
                    lines += take
                    at += len(take)
                    if len(lines) >= batch_size:
                        yield from parse_eve_lines(
                            zip(numbers, lines, strict=True), source=name, fields=wanted
                        )
                        lines, numbers = [], []
            if lines:
                yield from parse_eve_lines(
                    zip(numbers, lines, strict=True), source=name, fields=wanted
                )
    except (OSError, EOFError, ValueError) as exc:  # zstd/gzip errors derive from these
        raise Invalid(f"{name}: cannot read the input: {exc}") from exc


def parse_eve_lines(
    lines: Iterable[tuple[int, bytes]], *, source: str, fields: Iterable[str] | None = None
) -> list[ReadResult]:
    """Parse (line number, text) pairs; see `read_eve`."""
    wanted = None if fields is None else tuple(dict.fromkeys(fields))
    project = None if wanted is None else (lambda kind: _projected(kind, wanted))
    frames, quarantined = read_json_objects(
        lines, source=source, group="event_type", project=project
    )
    results = [_result(kind, frame, wanted) for kind, frame in frames.items()]
    if quarantined or not results:
        empty = with_ecs(_empty(), {}, "suricata")
        results.append(ReadResult("suricata", empty, quarantined))
    return results


# The native fields `_ecs` reads beyond `_COMMON`: a projection always has them.
_ECS_SOURCES = ("dns.rrname", "dns.queries", "dns.query", "http.url", "http.hostname",
                "fileinfo.sha256")  # fmt: skip


def _projected(kind: str, fields: Sequence[str]) -> tuple[str, ...]:
    known = ("timestamp", *_COMMON, *KNOWN_FIELDS.get(kind, ()), *_ECS_SOURCES, *fields)
    return tuple(n for n in dict.fromkeys(known) if n not in _META)


def _result(kind: str, frame: pl.DataFrame, fields: Sequence[str] | None) -> ReadResult:
    known = ("timestamp", *_COMMON, *KNOWN_FIELDS.get(kind, ()))
    known = tuple(dict.fromkeys(known))
    if fields is None:
        extra = sorted(c for c in frame.columns if c not in known and c not in _META)
    else:  # projection: exactly what was asked for, present or not
        extra = [c for c in _projected(kind, fields) if c not in known]
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c) for c in (*known, *extra) if c not in frame.columns
    ).select(*known, *extra, RAW_FIELD, LINE_FIELD)
    dataset = f"suricata.{kind}"
    return ReadResult(dataset, with_ecs(frame, _ecs(frame.columns), dataset))


def _ecs(columns: list[str]) -> dict[str, pl.Expr]:
    ts = pl.col("timestamp")
    stamp = pl.coalesce(
        ts.str.to_datetime(_TS_FORMATS[0], time_unit="us", strict=False),
        ts.str.to_datetime(_TS_FORMATS[1], time_unit="us", strict=False).dt.replace_time_zone(
            "UTC"
        ),
    )
    names = [pl.col(c) for c in ("dns.rrname",) if c in columns]
    names += [
        pl.col(c).str.json_path_match("$[0].rrname")
        for c in ("dns.queries", "dns.query")
        if c in columns
    ]
    exprs: dict[str, pl.Expr] = {
        "@timestamp": stamp.dt.convert_time_zone("UTC"),
        "source.ip": pl.col("src_ip"),
        "source.port": pl.col("src_port"),
        "destination.ip": pl.col("dest_ip"),
        "destination.port": pl.col("dest_port"),
        "network.transport": pl.col("proto").str.to_lowercase(),
    }
    if names:
        exprs["dns.question.name"] = pl.coalesce(names)
    if "http.url" in columns and "http.hostname" in columns:
        url, host = pl.col("http.url"), pl.col("http.hostname")
        exprs["url.full"] = (
            pl.when(url.str.contains(r"^[A-Za-z][A-Za-z0-9+.\-]*://"))
            .then(url)
            .when(host.is_not_null())
            .then(pl.concat_str(pl.lit("http://"), host, url.fill_null("")))
        )
    if "fileinfo.sha256" in columns:
        exprs["file.hash.sha256"] = pl.col("fileinfo.sha256").str.to_lowercase()
    return exprs


# -- generic JSON object lines → flattened String columns, keys collected per batch -----------
_META = {RAW_FIELD, LINE_FIELD, *ECS_SCHEMA}


def read_json_objects(
    lines: Iterable[tuple[int, bytes]],
    *,
    source: str,
    group: str | None = None,
    project: Callable[[str], Sequence[str]] | None = None,
) -> tuple[dict[str, pl.DataFrame], list[Quarantined]]:
    """Frames of flattened JSON objects (String columns, `_raw`, `_line`), keyed by the value
    of the top-level string key `group` ("" without `group`), and the lines that are not JSON
    objects (or, with `group`, lack a `[A-Za-z0-9_]{1,64}` value for it). A key that would take
    a reserved column name (`_raw`, `_line`, an ECS name) is kept as `_native.<name>`.
    With `project`, a group's frame has only the dotted names `project(group value)` gives
    (no key discovery: the names are the explicit schema); a name holding an object there
    gives its JSON text, and lines read one by one still bring all their keys."""
    kept = [(n, t) for n, t in lines if t.strip()]
    quarantined: list[Quarantined] = []
    frames: dict[str, list[pl.DataFrame]] = {}
    texts = _texts([t for _, t in kept])
    table = pl.DataFrame({"i": pl.int_range(len(kept), eager=True), "t": texts})
    pattern = f'"{re.escape(group)}"' + r'\s*:\s*"([^"\\]*)"' if group else ""
    key = pl.col("t").str.extract(pattern, 1) if group else pl.lit("", pl.String)
    # Key discovery (the shape of every line) only when reading every key.
    shape = pl.lit("") if project else pl.col("t").str.extract_all(_SHAPE).list.join("")
    table = table.with_columns(key.alias("g"), shape.alias("s"))
    good = pl.col("g").str.contains(r"^[A-Za-z0-9_]{1,64}$") if group else pl.col("t").is_not_null()
    good = good.fill_null(False)
    table = table.select("i", "g", "s", good.alias("ok"))
    slow: list[tuple[int, bytes]] = [kept[i] for i in table.filter(~pl.col("ok"))["i"]]
    for (kind,), part in table.filter("ok").group_by("g", maintain_order=True):
        rows = part["i"].to_list()
        tree: dict[str, Any] = {} if project is None else _tree(project(str(kind)))
        for i in part.filter(pl.col("s").is_first_distinct() & (project is None))["i"]:
            try:
                obj = orjson.loads(kept[i][1])
            except orjson.JSONDecodeError:
                obj = None
            if not isinstance(obj, dict):  # the fast read would fail anyway: go line by line
                tree = {}
                break
            _merge(tree, obj)
        chunk = [kept[i] for i in rows]
        if not tree:
            slow.extend(chunk)
            continue
        _split(chunk, tree, (group, str(kind)), frames, slow, direct=project is not None)
    _slow(source, slow, group, frames, quarantined)
    out = {}
    for kind, parts in frames.items():
        frame = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal")
        out[kind] = frame.sort(LINE_FIELD) if len(parts) > 1 else frame
    quarantined.sort(key=lambda q: int(q.position.split()[1]))
    return out, quarantined


def _texts(lines: list[bytes]) -> pl.Series:
    """The lines as text; Polars refuses a whole Binary column with one invalid UTF-8 line,
    so then such lines are nulled (the line-by-line path quarantines them)."""
    try:
        return pl.Series("t", lines, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:
        valid = [t if _utf8(t) else None for t in lines]
        return pl.Series("t", valid, dtype=pl.Binary).cast(pl.String)


def _tree(names: Sequence[str]) -> dict[str, Any]:
    """The key paths of dotted names (dict = object, None = leaf); where one name is a prefix
    of another the object wins (flattened reading has no column for an object either)."""
    tree: dict[str, Any] = {}
    for name in names:
        *parents, leaf = name.split(".")
        node = tree
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node.setdefault(leaf, None)
    return tree


def _utf8(text: bytes) -> bool:
    if text.isascii():
        return True
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _merge(tree: dict[str, Any], obj: dict[str, Any]) -> None:
    """Add obj's key paths to tree (dict = object, None = leaf); an object seen as a leaf
    elsewhere becomes a leaf (read as JSON text)."""
    for k, v in obj.items():
        if isinstance(v, dict) and v:
            node = tree.get(k, {})
            if isinstance(node, dict):
                tree[k] = node
                _merge(node, v)
        else:
            tree[k] = None


def _schema(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: pl.String if v is None else _dtype(v) for k, v in tree.items()}


def _dtype(node: dict[str, Any]) -> pl.Struct:
    return pl.Struct({k: pl.String if v is None else _dtype(v) for k, v in node.items()})


def _leaves(
    node: dict[str, Any], prefix: str, expr: pl.Expr | None
) -> Iterator[tuple[str, pl.Expr]]:
    for k, v in node.items():
        name = f"{prefix}{k}"
        col = pl.col(k) if expr is None else expr.struct.field(k)
        if v is None:
            yield name, col
        else:
            yield from _leaves(v, f"{name}.", col)


def _split(
    chunk: list[tuple[int, bytes]],
    tree: dict[str, Any],
    kind: tuple[str | None, str],
    frames: dict[str, list[pl.DataFrame]],
    slow: list[tuple[int, bytes]],
    *,
    direct: bool = False,
) -> None:
    """Read chunk with Polars and the explicit schema; halve what Polars refuses."""
    try:
        data = b"\n".join(t for _, t in chunk)
        # A projection's few leaves read fastest as one struct schema (measured).
        parsed = pl.read_ndjson(data, schema=_schema(tree)) if direct else _parse(data, tree)
    except (pl.exceptions.PolarsError, OverflowError, ValueError):
        parsed = None
    if parsed is None or parsed.height != len(chunk):
        if len(chunk) <= _SLOW_BELOW:
            slow.extend(chunk)
            return
        middle = len(chunk) // 2
        _split(chunk[:middle], tree, kind, frames, slow, direct=direct)
        _split(chunk[middle:], tree, kind, frames, slow, direct=direct)
        return
    key, value = kind
    if key is not None and tree.get(key, 0) is None:  # the regex saw a nested key: recheck
        wrong = (parsed[key] != value).fill_null(True)
        if wrong.any():
            slow.extend(t for t, w in zip(chunk, wrong, strict=True) if w)
            chunk = [t for t, w in zip(chunk, wrong, strict=True) if not w]
            parsed = parsed.filter(~wrong)
    columns: dict[str, list[pl.Expr]] = {}
    for name, expr in _leaves(tree, "", None):
        columns.setdefault(_column(name), []).append(expr)
    frame = parsed.select(
        *(pl.coalesce(e).alias(n) if len(e) > 1 else e[0].alias(n) for n, e in columns.items()),
        pl.Series(RAW_FIELD, [t for _, t in chunk], dtype=pl.Binary).cast(pl.String),
        pl.Series(LINE_FIELD, [n for n, _ in chunk], dtype=pl.Int64),
    )
    frames.setdefault(value, []).append(frame)


def _parse(data: bytes, tree: dict[str, Any]) -> pl.DataFrame:
    """The lines read with the tree as schema. Polars' reader is slow on wide nested structs
    (Suricata `stats`: ~470 leaves), so each object is read as text and that text read again
    for the level below. The text Polars writes for an object is only faithful without `\\`
    (it writes `\\` and `"` ambiguously) and with control characters escaped; objects holding
    a `\\` anywhere are read from the lines with their struct type instead. If a level refuses,
    the batch is read the plain way: the leaves come out the same either way."""
    try:
        parsed = pl.read_ndjson(data, schema=dict.fromkeys(tree, pl.String))
        whole = {}
        for key, node in tree.items():
            if node is not None and parsed.get_column(key).str.contains("\\", literal=True).any():
                whole[key] = _dtype(node)
        nested = _nested(parsed, {k: v for k, v in tree.items() if k not in whole})
        if whole:
            nested += pl.read_ndjson(data, schema=whole).get_columns()
        return parsed.with_columns(nested)
    except (pl.exceptions.PolarsError, OverflowError, ValueError):
        schema = {k: pl.String if v is None else _dtype(v) for k, v in tree.items()}
        return pl.read_ndjson(data, schema=schema)


def _nested(parsed: pl.DataFrame, tree: dict[str, Any]) -> list[pl.Series]:
    """Each object column of `parsed` (JSON text without `\\`) as a struct, level by level."""
    out = []
    for key, node in tree.items():
        if node is None:
            continue
        text = parsed.get_column(key).fill_null("{}")
        if text.str.contains(_CONTROL).any():  # written raw: escape them to read the text back
            text = text.str.replace_many(_CONTROLS, _ESCAPED)
        data = b"\n".join(text.cast(pl.Binary).to_list())
        inner = pl.read_ndjson(data, schema=dict.fromkeys(node, pl.String))
        if inner.height != parsed.height:
            raise ValueError("nested object count")
        out.append(inner.with_columns(_nested(inner, node)).to_struct(key))
    return out


def _column(name: str) -> str:
    return f"_native.{name}" if name in _META else name


def flatten_object(obj: dict[str, Any], prefix: str = "") -> dict[str, str | None]:
    """Dotted key → text, as the fast path reads it (objects flattened, arrays as JSON text)."""
    out: dict[str, str | None] = {}
    for k, v in obj.items():
        if isinstance(v, dict) and v:
            for name, value in flatten_object(v, f"{prefix}{k}.").items():
                out.setdefault(name, value)
        elif isinstance(v, dict | list):
            out.setdefault(f"{prefix}{k}", json.dumps(v, ensure_ascii=False))
        else:
            out.setdefault(f"{prefix}{k}", scalar_text(v))
    return out


def _slow(
    source: str,
    lines: list[tuple[int, bytes]],
    group: str | None,
    frames: dict[str, list[pl.DataFrame]],
    quarantined: list[Quarantined],
) -> None:
    """Line by line: each malformed line quarantined with its reason, the rest kept."""
    rows: dict[str, list[dict[str, str | int | None]]] = {}
    for number, text in sorted(lines):
        raw = text.decode("utf-8", errors="replace")
        try:
            obj = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            quarantined.append(Quarantined(source, f"line {number}", f"invalid JSON: {exc}", raw))
            continue
        if not isinstance(obj, dict):
            reason = f"not a JSON object ({type(obj).__name__})"
            quarantined.append(Quarantined(source, f"line {number}", reason, raw))
            continue
        kind = ""
        if group:
            value = obj.get(group)
            if not isinstance(value, str) or not _TYPE_NAME.fullmatch(value):
                reason = f"{group} {value!r} is missing or not a name ([A-Za-z0-9_])"
                quarantined.append(Quarantined(source, f"line {number}", reason, raw))
                continue
            kind = value
        row: dict[str, str | int | None] = {_column(k): v for k, v in flatten_object(obj).items()}
        row[RAW_FIELD], row[LINE_FIELD] = raw, number
        rows.setdefault(kind, []).append(row)
    for kind, items in rows.items():
        names = list(dict.fromkeys(n for r in items for n in r if n not in (RAW_FIELD, LINE_FIELD)))
        schema: dict[str, Any] = dict.fromkeys(names, pl.String)
        schema[RAW_FIELD], schema[LINE_FIELD] = pl.String, pl.Int64
        frames.setdefault(kind, []).append(pl.DataFrame(items, schema=schema))


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={RAW_FIELD: pl.String, LINE_FIELD: pl.Int64})
