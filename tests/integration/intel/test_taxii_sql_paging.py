"""The SQL path of TAXII reads (`taxii.query_sql`: choosing each object's first, last or every
version and paging in SQL) gives exactly the pages of the Python path (`query.select_entries`
and `query.page`, the reference it replaced for these queries), on SQLite and PostgreSQL, for
generated collections with ties in version times and dates added; and migration 0013 fills
`version_at` for rows stored before it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from civicshield.intel.taxii.models import TaxiiApiRoot, TaxiiCollection, TaxiiEntry
from civicshield.intel.taxii.query import PageOf, Query, page, parse_query, select_entries
from civicshield.intel.taxii.query_sql import handles, sql_page
from civicshield.intel.taxii.server import _metadata
from civicshield.intel.taxii.stix import format_timestamp, version_time
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime
from civicshield.store import make_engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)
IDS = [f"indicator--{uuid.UUID(int=i)}" for i in range(1, 5)] + [
    f"malware--{uuid.UUID(int=i)}" for i in range(5, 7)
]


def _version_text(seconds: int, style: int) -> str:
    """Two spellings of one instant, so version strings differ while their times tie."""
    text = format_timestamp(T0 + timedelta(seconds=seconds), micro=False)
    return text if style == 0 else text.replace(".000Z", "Z")


version = st.tuples(
    st.sampled_from(IDS),
    st.integers(0, 3),  # version time (few values: ties)
    st.integers(0, 1),  # spelling
    st.sampled_from(["2.0", "2.1"]),
    st.integers(0, 3),  # date added (few values: ties)
)


@st.composite
def query(draw: st.DrawFn) -> Query:
    params: dict[str, list[str]] = {}
    if draw(st.booleans()):
        params["match[type]"] = [draw(st.sampled_from(["indicator", "malware"]))]
    if draw(st.booleans()):
        params["match[id]"] = [",".join(draw(st.lists(st.sampled_from(IDS), min_size=1)))]
    if draw(st.booleans()):
        after = T0 + timedelta(days=draw(st.integers(0, 3)))
        params["added_after"] = [format_timestamp(after)]
    params["match[version]"] = [draw(st.sampled_from(["first", "last", "all"]))]
    if draw(st.booleans()):
        params["match[spec_version]"] = [draw(st.sampled_from(["2.0", "2.1", "2.0,2.1"]))]
    params["limit"] = [str(draw(st.integers(1, 4)))]
    return parse_query(params, page_size=100)


def _collection(rt: Runtime) -> int:
    with rt.session() as s:
        root = TaxiiApiRoot(slug="r", title="r", max_content_length=10**6, created_at=T0)
        s.add(root)
        s.flush()
        row = TaxiiCollection(
            uuid=str(uuid.uuid4()), api_root_id=root.id, title="c", created_at=T0,
            media_types=["application/stix+json;version=2.1"],
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def _walk(fetch: Any, first: Query) -> list[tuple[list[int], bool]]:
    pages, current = [], first
    for _ in range(100):
        got: PageOf = fetch(current)
        pages.append(([e.id for e in got.entries], got.more))
        if not got.more:
            return pages
        current = Query(**{**current.__dict__, "next": got.next})
    raise AssertionError("paging did not end")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(versions=st.lists(version, max_size=14), q=query())
@example(  # two spellings of one instant: the later row is the last version
    versions=[(IDS[0], 1, 0, "2.1", 0), (IDS[0], 1, 1, "2.1", 1)],
    q=parse_query({"match[version]": ["last"]}, page_size=100),
)
@example(
    versions=[(IDS[0], 1, 0, "2.1", 0), (IDS[0], 1, 1, "2.1", 1)],
    q=parse_query({"match[version]": ["first"]}, page_size=100),
)
def test_sql_pages_equal_the_python_pages(
    runtime_any: Runtime, versions: list[tuple[str, int, int, str, int]], q: Query
) -> None:
    rt = runtime_any
    with rt.session() as s:
        collection = s.scalar(select(TaxiiCollection.id)) or None
    collection = collection or _collection(rt)
    with rt.session() as s:
        s.execute(delete(TaxiiEntry))
        seen: set[tuple[str, str]] = set()
        for ident, at, style, spec, added_day in versions:
            text = _version_text(at, style)
            if (ident, text) in seen:  # one row per (object, version string)
                continue
            seen.add((ident, text))
            added = T0 + timedelta(days=added_day)
            s.add(
                TaxiiEntry(
                    collection_id=collection, stix_id=ident, type=ident.split("--")[0],
                    version=text, version_at=version_time(text, added), spec_version=spec,
                    media_type=f"application/stix+json;version={spec}", date_added=added,
                    added_by="t", body={"id": ident},
                )
            )  # fmt: skip
    assert handles(q)
    with rt.session() as s:
        python = _walk(
            lambda cur: page(select_entries(_metadata(s, collection, cur, None), cur), cur), q
        )
        in_sql = _walk(lambda cur: sql_page(s, collection, cur), q)
    assert in_sql == python


def test_timestamp_versions_and_delete_stay_in_python() -> None:
    assert not handles(parse_query({"match[version]": ["2026-01-01T00:00:00Z"]}, page_size=10))
    assert not handles(parse_query({}, page_size=10, all_specs=True))
    assert handles(parse_query({}, page_size=10))


def test_migration_fills_version_at(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0012")
    engine = make_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    root, collection, entry = (tables.tables[n] for n in ("taxii_api_root", "taxii_collection",
                                                          "taxii_entry"))  # fmt: skip
    # naive times: the reflected SQLite columns store them so
    stamp = T0.replace(tzinfo=None)
    added = datetime(2020, 2, 2, 2, 2, 2, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(root.insert().values(
            id=1, slug="r", title="r", description="", versions=[], max_content_length=1000,
            is_default=False, created_at=stamp,
        ))  # fmt: skip
        conn.execute(collection.insert().values(
            id=1, uuid=str(uuid.uuid4()), api_root_id=1, title="c", description="",
            media_types=[], can_read=True, can_write=True, topic="", multi_city=True,
            created_at=stamp,
        ))  # fmt: skip
        for ident, text in ((1, "2016-11-03T12:30:59.5Z"), (2, "not a time")):
            conn.execute(entry.insert().values(
                id=ident, collection_id=1, stix_id=f"indicator--{uuid.UUID(int=ident)}",
                type="indicator", version=text, spec_version="2.1", media_type="m",
                date_added=added, added_by="t", body={},
            ))  # fmt: skip
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        got = dict(conn.execute(select(entry.c.id, sa.column("version_at"))).all())
    engine.dispose()
    assert str(got[1]).startswith("2016-11-03 12:30:59.5")
    assert str(got[2]).startswith("2020-02-02 02:02:02")  # not a time: its date added
