"""The compiled rule cache: a `CompiledRuleSet` (and the rule load problems) saved to one file so
that a warm `civicshield detect` parses no YAML and compiles nothing.

    key = ruleset_key(files, engine_version=ENGINE_VERSION, mapping_version=MAPPING_VERSION,
                      roots=roots)
    entry = load(path)                 # None when absent, corrupt or from another version
    save(ruleset, path, problems=...)  # False (nothing written) when it cannot be cached

The key is the SHA-256 of the cache format, the engine, mapping, Polars and pySigma versions,
the rules roots (in order) and every rule file's path (relative to its root) and bytes, so any
edit, added or removed file, moved tree or version bump selects another file. A file holds a
magic line, the SHA-256 of its payload and the payload: the length of a JSON document (8 bytes,
big-endian), that document, then each rule's Polars expression in Polars' binary form, back to
back (the document gives each rule's offset and length: a warm start reads them as byte slices
instead of decoding megabytes of base64 text). The document holds every rule's pre-filter atoms
as three flat lists (clause number, column, text) and each rule its rows' start, end and clause
count: the evaluator builds its plan from slices of those lists (`FlatAtoms`). A file that
fails any check is ignored (`load` returns None) and rebuilt by the caller. Files are written
atomically (temporary file + `os.replace`).

Polars' binary expression format is only stable within one Polars version (hence the key), and
an expression that cannot be serialised, or does not read back identical, means the rule set
is not cached at all (`CacheError`): a cache is either exact or absent.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from civicshield.core import Severity
from civicshield.detect.engine.model import (
    Clauses,
    CompiledRule,
    CompiledRuleSet,
    FlatAtoms,
    Route,
    Unsupported,
)
from civicshield.detect.sigma.model import RuleInfo, RuleProblem

__all__ = [
    "CACHE_FORMAT",
    "CacheEntry",
    "CacheError",
    "cache_path",
    "index_path",
    "load",
    "load_entry",
    "ruleset_key",
    "save",
]

CACHE_FORMAT = "6"  # bump when the file layout below changes
_MAGIC = b"civicshield-compiled-rules\n"
_DIGEST = 32
_LENGTH = 8  # bytes of the JSON document's length


class CacheError(Exception):
    """The rule set cannot be cached (an expression Polars cannot serialise exactly)."""


@dataclass
class CacheEntry:
    ruleset: CompiledRuleSet
    problems: list[RuleProblem] = field(default_factory=list)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # pragma: no cover - installed in every environment
        return "unknown"


def ruleset_key(
    rule_files: list[Path],
    *,
    engine_version: str,
    mapping_version: str,
    roots: Sequence[Path] = (),
    index: Path | None = None,
) -> str:
    """SHA-256 (hex) of the versions, the `roots` and every rule file (path, bytes). A file's path
    is taken relative to the first of `roots` holding it (prefixed with that root's position),
    else as given; files are hashed in sorted path order. Reads bytes only, parses nothing."""
    if index is not None:
        return _indexed_key(
            rule_files,
            engine_version=engine_version,
            mapping_version=mapping_version,
            roots=roots,
            index=index,
        )
    digest = hashlib.sha256()

    def put(*parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)

    put(
        "format",
        CACHE_FORMAT,
        "engine",
        engine_version,
        "mapping",
        mapping_version,
        "polars",
        pl.__version__,
        "pysigma",
        _version("pySigma"),
    )
    resolved = [r.resolve() for r in roots]
    for root in resolved:
        put("root", root.as_posix())
    entries: list[tuple[str, Path]] = []
    for path in rule_files:
        entries.append((_relative(path.resolve(), resolved), path))
    for name, path in sorted(entries):
        put("file", name, path.read_bytes())
    return digest.hexdigest()


def _indexed_key(
    rule_files: list[Path],
    *,
    engine_version: str,
    mapping_version: str,
    roots: Sequence[Path],
    index: Path,
) -> str:
    """`ruleset_key` without reading the files when none changed since the last call: the key is
    remembered in `index` (JSON) under a digest of every file's path, size, inode and mtime in
    nanoseconds (as git's index does). Any change to those reads and hashes the files again."""
    digest = hashlib.sha256()
    versions = (CACHE_FORMAT, engine_version, mapping_version, pl.__version__, _version("pySigma"))
    for part in versions:
        digest.update(part.encode() + b"\0")
    for root in roots:
        digest.update(root.resolve().as_posix().encode() + b"\0")
    for path in sorted(rule_files, key=str):
        stat = os.stat(path)
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_ino}\0{stat.st_mtime_ns}\0".encode())
    signature = digest.hexdigest()
    try:
        known = orjson.loads(index.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    key = known.get(signature)
    if isinstance(key, str):
        return key
    key = ruleset_key(
        rule_files, engine_version=engine_version, mapping_version=mapping_version, roots=roots
    )
    known = dict(list(known.items())[-31:])  # a few rule sets per data folder
    known[signature] = key
    with contextlib.suppress(OSError):  # the index only saves time
        _write_atomically(index, orjson.dumps(known))
    return key


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _relative(path: Path, roots: Sequence[Path]) -> str:
    for index, root in enumerate(roots):
        base = root.parent if root.is_file() else root
        if path == root or path.is_relative_to(base):
            return f"{index}:{path.relative_to(base).as_posix()}"
    return path.as_posix()


def cache_path(data_dir: Path, key: str) -> Path:
    """`<data_dir>/cache/compiled/<key>.bin`."""
    return data_dir / "cache" / "compiled" / f"{key}.bin"


def index_path(data_dir: Path) -> Path:
    """`<data_dir>/cache/compiled/index.json`: rule files' stat signature → key."""
    return data_dir / "cache" / "compiled" / "index.json"


# -- save ---------------------------------------------------------------------------------------
def save(ruleset: CompiledRuleSet, path: Path, *, problems: Sequence[RuleProblem] = ()) -> None:
    """Write `ruleset` (and the load `problems`) to `path` atomically. Raises `CacheError` (and
    writes nothing) when an expression cannot be serialised exactly; `OSError` as raised."""
    blobs: list[tuple[int, bytes]] = []
    atoms: dict[str, list[Any]] = {"clause": [], "column": [], "text": []}
    document = orjson.dumps(
        {
            "format": CACHE_FORMAT,
            "rules": [_compiled_to_dict(c, blobs, atoms) for c in ruleset.rules],
            "atoms": atoms,
            "unsupported": [
                {"rule": _info_to_dict(u.rule), "reason": u.reason} for u in ruleset.unsupported
            ],
            "problems": [p.to_dict() for p in problems],
        }
    )
    payload = b"".join([len(document).to_bytes(_LENGTH, "big"), document, *(b for _, b in blobs)])
    _write_atomically(path, _MAGIC + hashlib.sha256(payload).digest() + payload)


def _compiled_to_dict(
    compiled: CompiledRule, blobs: list[tuple[int, bytes]], atoms: dict[str, list[Any]]
) -> dict[str, Any]:
    """The rule as JSON; its expression's (offset, bytes) go to the end of `blobs`, its atoms to
    the end of the flat `atoms` lists (the rule keeps its rows' start, end and clause count)."""
    try:
        blob = compiled.expr.meta.serialize(format="binary")
        back = pl.Expr.deserialize(io.BytesIO(blob), format="binary")
    except Exception as exc:  # Polars raises several kinds; any means "not cacheable"
        raise CacheError(f"rule {compiled.rule.id}: expression not serialisable: {exc}") from exc
    if not back.meta.eq(compiled.expr):
        raise CacheError(f"rule {compiled.rule.id}: expression does not round-trip")
    start = blobs[-1][0] + len(blobs[-1][1]) if blobs else 0
    blobs.append((start, blob))
    return {
        "rule": _info_to_dict(compiled.rule),
        "expr": [start, len(blob)],
        "channels": list(compiled.route.channels),
        "event_ids": list(compiled.route.event_ids),
        "channel_field": compiled.route.channel_field,
        "event_id_field": compiled.route.event_id_field,
        "extra": [[name, list(values)] for name, values in compiled.route.extra],
        "fields": sorted(compiled.fields),
        "atoms": _flatten(compiled.atoms, atoms),
    }


def _flatten(clauses: Clauses, atoms: dict[str, list[Any]]) -> list[int] | None:
    if clauses is None:
        return None
    start = len(atoms["clause"])
    for number, clause in enumerate(clauses):
        for column, text in sorted(clause):
            atoms["clause"].append(number)
            atoms["column"].append(column)
            atoms["text"].append(text)
    return [start, len(atoms["clause"]), len(clauses)]


def _info_to_dict(info: RuleInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": info.title,
        "level": info.level.value if info.level else None,
        "status": info.status,
        "author": info.author,
        "tags": list(info.tags),
        "techniques": list(info.techniques),
        "tactics": list(info.tactics),
        "product": info.product,
        "category": info.category,
        "service": info.service,
        "path": info.path,
        "source": info.source_file,
        "kind": info.kind,
        "deprecated": info.deprecated,
    }


# -- load ---------------------------------------------------------------------------------------
def load(path: Path) -> CompiledRuleSet | None:
    """The cached rule set at `path`; None when absent, corrupt or of another format."""
    entry = load_entry(path)
    return None if entry is None else entry.ruleset


def load_entry(path: Path) -> CacheEntry | None:
    """The cached rule set and load problems at `path`; None when the file is absent, corrupt or
    of another format (the caller rebuilds it). Never raises for a bad file."""
    # Building ~10^5 objects (none in a reference cycle) with the cyclic collector running
    # costs about as much again as building them: it re-scans them as they pile up.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_entry(path)
    finally:
        if enabled:
            gc.enable()


def _load_entry(path: Path) -> CacheEntry | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head = len(_MAGIC)
    if not data.startswith(_MAGIC) or len(data) < head + _DIGEST:
        return None
    payload = memoryview(data)[head + _DIGEST :]
    if hashlib.sha256(payload).digest() != data[head : head + _DIGEST]:
        return None
    try:
        size = int.from_bytes(payload[:_LENGTH], "big")
        raw = orjson.loads(payload[_LENGTH : _LENGTH + size])
        if raw.get("format") != CACHE_FORMAT:
            return None
        blobs = payload[_LENGTH + size :]
        routes: dict[str, Route] = {}
        flat = raw["atoms"]
        atoms = FlatAtoms(flat["clause"], flat["column"], flat["text"])
        ruleset = CompiledRuleSet(
            rules=[_compiled_from_dict(r, routes, blobs, atoms) for r in raw["rules"]],
            unsupported=[
                Unsupported(_info_from_dict(u["rule"]), str(u["reason"]))
                for u in raw["unsupported"]
            ],
        )
        problems = [
            RuleProblem(p["file"], p["line"], p["reason"], p["rule_id"]) for p in raw["problems"]
        ]
    except Exception:  # any malformed content: ignore the file
        return None
    return CacheEntry(ruleset, problems)


def _compiled_from_dict(
    raw: dict[str, Any], routes: dict[str, Route], blobs: memoryview, atoms: FlatAtoms
) -> CompiledRule:
    """One cached rule (the file's checksum was verified: types are as `save` wrote them).
    `routes` shares one `Route` between the rules of a log source; `atoms` holds every rule's
    atoms."""
    start, length = raw["expr"]
    if start + length > len(blobs):
        raise ValueError("expression outside the file")
    blob = bytes(blobs[start : start + length])  # deserialised on first use (`CompiledRule.expr`)
    key = orjson.dumps(
        [
            raw["channels"],
            raw["event_ids"],
            raw["channel_field"],
            raw["event_id_field"],
            raw["extra"],
        ]
    ).decode()
    route = routes.get(key)
    if route is None:
        route = routes[key] = Route(
            channels=tuple(raw["channels"]),
            event_ids=tuple(raw["event_ids"]),
            channel_field=raw["channel_field"],
            event_id_field=raw["event_id_field"],
            extra=tuple((n, tuple(vs)) for n, vs in raw["extra"]),
        )
    rows = raw["atoms"]
    if rows is not None and not 0 <= rows[0] <= rows[1] <= len(atoms.clauses):
        raise ValueError("atoms outside the table")
    return CompiledRule(
        _info_from_dict(raw["rule"]),
        None,
        route,
        frozenset(raw["fields"]),
        blob=blob,
        flat_atoms=None if rows is None else (atoms, rows[0], rows[1], rows[2]),
    )


def _info_from_dict(raw: dict[str, Any]) -> RuleInfo:
    return RuleInfo(
        id=raw["id"],
        title=raw["title"],
        level=Severity(raw["level"]) if raw["level"] is not None else None,
        status=raw["status"],
        author=raw["author"],
        tags=tuple(raw["tags"]),
        techniques=tuple(raw["techniques"]),
        tactics=tuple(raw["tactics"]),
        product=raw["product"],
        category=raw["category"],
        service=raw["service"],
        path=raw["path"],
        source_file=raw["source"],
        kind=raw["kind"],
        deprecated=bool(raw["deprecated"]),
    )
