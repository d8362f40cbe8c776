"""TAXII 2.1 filters and paging, applied to a collection's stored object versions.

Order (as the reference server, medallion, applies them): `match[type]`, `match[id]`,
`added_after`, `match[spec_version]` (default: each object's latest spec version),
`match[version]` (default `last`), then sort by (date_added, entry id) and page. The `next`
token is stateless: base64url JSON of the last entry's (date_added, id) and a digest of the
filters, so a token used with other filters is refused (400) instead of skipping objects.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from civicshield.intel.taxii.errors import BadTaxiiRequest
from civicshield.intel.taxii.models import TaxiiEntry
from civicshield.intel.taxii.stix import format_timestamp, parse_timestamp

__all__ = [
    "META_COLUMNS",
    "EntryMeta",
    "PageOf",
    "Query",
    "cursor_of",
    "page",
    "parse_query",
    "select_entries",
    "token_of",
]

_FILTERS = ("added_after", "match[id]", "match[type]", "match[version]", "match[spec_version]")


@dataclass(frozen=True, slots=True)
class EntryMeta:
    """One stored version without its body: what filtering, choosing versions and paging read
    (a plain object, not an ORM one: a full collection read loads every version's metadata)."""

    id: int
    stix_id: str
    type: str
    version: str
    spec_version: str
    media_type: str
    date_added: datetime


META_COLUMNS = (
    TaxiiEntry.id,
    TaxiiEntry.stix_id,
    TaxiiEntry.type,
    TaxiiEntry.version,
    TaxiiEntry.spec_version,
    TaxiiEntry.media_type,
    TaxiiEntry.date_added,
)


@dataclass(frozen=True)
class Query:
    added_after: datetime | None = None
    ids: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    versions: tuple[str, ...] = ("last",)  # first | last | all | timestamps
    spec_versions: frozenset[str] = frozenset()
    all_specs: bool = False  # without match[spec_version]: every spec version, not the latest
    limit: int = 0
    next: str | None = None
    digest: str = ""


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def parse_query(
    params: Mapping[str, Sequence[str]],
    *,
    page_size: int,
    allowed: Sequence[str] = _FILTERS,
    default_version: str = "last",
    all_specs: bool = False,
) -> Query:
    """Query parameters (each name to its values) into a `Query`; BadTaxiiRequest names the
    parameter at fault. Unknown parameters are ignored, as TAXII asks."""
    added_after = None
    if "added_after" in allowed and (raw := params.get("added_after")):
        try:
            added_after = parse_timestamp(raw[-1])
        except ValueError as exc:
            raise BadTaxiiRequest(f"added_after: {exc}") from exc
    versions = _split(params.get("match[version]", [])) if "match[version]" in allowed else []
    for value in versions:
        if value not in ("first", "last", "all"):
            try:
                parse_timestamp(value)
            except ValueError as exc:
                raise BadTaxiiRequest(f"match[version]: {exc} or first, last, all") from exc
    specs = (
        _split(params.get("match[spec_version]", [])) if "match[spec_version]" in allowed else []
    )
    for value in specs:
        if value not in ("2.0", "2.1"):
            raise BadTaxiiRequest(f"match[spec_version]: {value!r} is not 2.0 or 2.1")
    limit = page_size
    if raw_limit := params.get("limit"):
        try:
            limit = int(raw_limit[-1])
        except ValueError:
            limit = 0
        if limit < 1:
            raise BadTaxiiRequest(f"limit: {raw_limit[-1]!r} is not a positive whole number")
        limit = min(limit, page_size)
    query = Query(
        added_after=added_after,
        ids=frozenset(_split(params.get("match[id]", [])))
        if "match[id]" in allowed
        else frozenset(),
        types=frozenset(_split(params.get("match[type]", [])))
        if "match[type]" in allowed
        else frozenset(),
        versions=tuple(versions) or (default_version,),
        spec_versions=frozenset(specs),
        all_specs=all_specs,
        limit=limit,
    )
    # The token binds the filters, not the page size: clients may change `limit` as they go.
    filters = (added_after, sorted(query.ids), sorted(query.types), query.versions, sorted(specs))
    digest = hashlib.sha256(repr(filters).encode()).hexdigest()[:16]
    token = params.get("next")
    return Query(**{**query.__dict__, "next": token[-1] if token else None, "digest": digest})


def _pick_versions(entries: list[EntryMeta], wanted: tuple[str, ...]) -> list[EntryMeta]:
    if "all" in wanted:
        return entries
    if len(entries) == 1 and all(w in ("first", "last") for w in wanted):
        return entries  # one version is both the first and the last
    ordered = sorted(entries, key=lambda e: (parse_timestamp(e.version), e.id))
    chosen: dict[int, EntryMeta] = {}
    for value in wanted:
        if value == "first":
            chosen[ordered[0].id] = ordered[0]
        elif value == "last":
            chosen[ordered[-1].id] = ordered[-1]
        else:
            at = parse_timestamp(value)
            chosen.update((e.id, e) for e in ordered if parse_timestamp(e.version) == at)
    return list(chosen.values())


def select_entries(entries: Sequence[EntryMeta], query: Query) -> list[EntryMeta]:
    """The entries the filters keep, sorted by (date_added, id)."""
    by_object: dict[str, list[EntryMeta]] = {}
    for entry in entries:
        if query.types and entry.type not in query.types:
            continue
        if query.ids and entry.stix_id not in query.ids:
            continue
        if query.added_after is not None and entry.date_added <= query.added_after:
            continue
        by_object.setdefault(entry.stix_id, []).append(entry)
    kept: list[EntryMeta] = []
    for versions in by_object.values():
        if query.spec_versions:
            versions = [e for e in versions if e.spec_version in query.spec_versions]
        elif not query.all_specs:
            latest = max(e.spec_version for e in versions)
            versions = [e for e in versions if e.spec_version == latest]
        if versions:
            kept.extend(_pick_versions(versions, query.versions))
    return sorted(kept, key=lambda e: (e.date_added, e.id))


@dataclass(frozen=True)
class PageOf:
    entries: list[EntryMeta]
    more: bool
    next: str | None


def _token(entry: EntryMeta, digest: str) -> str:
    raw = json.dumps({"a": format_timestamp(entry.date_added), "i": entry.id, "f": digest})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor(token: str, digest: str) -> tuple[datetime, int]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, ident, filters = parse_timestamp(raw["a"]), int(raw["i"]), str(raw["f"])
    except (ValueError, TypeError, KeyError) as exc:
        raise BadTaxiiRequest(f"next: {token!r} is not a paging token from this server") from exc
    if filters != digest:
        raise BadTaxiiRequest("next: the token belongs to a request with other filters")
    return after, ident


def cursor_of(query: Query) -> tuple[datetime, int] | None:
    """The (date_added, row id) the query's `next` token says to continue after."""
    return _cursor(query.next, query.digest) if query.next else None


def token_of(entry: EntryMeta, query: Query) -> str:
    """The `next` token that continues after `entry`."""
    return _token(entry, query.digest)


def page(entries: list[EntryMeta], query: Query) -> PageOf:
    """One page of sorted `entries` after the query's `next` token."""
    after = cursor_of(query)
    if after is not None:
        entries = [e for e in entries if (e.date_added, e.id) > after]
    shown = entries[: query.limit]
    more = len(entries) > len(shown)
    return PageOf(shown, more, _token(shown[-1], query.digest) if more else None)
