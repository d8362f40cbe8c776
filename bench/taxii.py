"""TAXII 2.1 collection reads at scale: one page of `GET …/objects/` and `…/manifest/`.

A fresh SQLite data dir gets one collection of `--objects` indicators with two versions each
(so `match[version]=last` has a choice to make). Each query is timed as the server answers
it (`taxii.objects_page`: the versions chosen and paged in SQL, `taxii.query_sql`) and, as the
anchor in the same run, the way it was answered before: every version's metadata loaded and
chosen and paged in Python (`query.select_entries` + `query.page`, still the path for
timestamp `match[version]` values). Median of 5 after one warm-up; both give the same page
(checked).

    .venv/bin/python bench/taxii.py                   # 100,000 objects (200,000 versions)
    .venv/bin/python bench/taxii.py --objects 10000   # quicker

Prints its figures and writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _report import cpu_name, write_section
from sqlalchemy import insert

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PAGE = 100


def _seed(rt: Any, objects: int) -> int:
    from civicshield.intel.taxii.models import TaxiiApiRoot, TaxiiCollection, TaxiiEntry
    from civicshield.intel.taxii.stix import format_timestamp

    with rt.session() as s:
        root = TaxiiApiRoot(slug="bench", title="bench", max_content_length=10**7, created_at=T0)
        s.add(root)
        s.flush()
        collection = TaxiiCollection(
            uuid=str(uuid.uuid4()), api_root_id=root.id, title="bench", created_at=T0,
            media_types=["application/stix+json;version=2.1"],
        )  # fmt: skip
        s.add(collection)
        s.flush()
        cid = collection.id
    rows: list[dict[str, Any]] = []
    for i in range(objects):
        ident = f"indicator--{uuid.UUID(int=i + 1)}"
        for v in range(2):
            at = T0 + timedelta(seconds=2 * i + v)
            text = format_timestamp(at, micro=False)
            rows.append({
                "collection_id": cid, "stix_id": ident, "type": "indicator", "version": text,
                "version_at": at, "spec_version": "2.1",
                "media_type": "application/stix+json;version=2.1", "date_added": at,
                "added_by": "bench",
                "body": {"type": "indicator", "spec_version": "2.1", "id": ident,
                         "created": format_timestamp(T0, micro=False), "modified": text},
            })  # fmt: skip
        if len(rows) >= 20_000:
            with rt.session() as s:
                s.execute(insert(TaxiiEntry), rows)
            rows = []
    if rows:
        with rt.session() as s:
            s.execute(insert(TaxiiEntry), rows)
    return cid


def _median(run: Callable[[], Any], rounds: int = 5) -> tuple[float, Any]:
    result = run()  # warm-up (and the answer)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    args = parser.parse_args()

    from civicshield.core import FrozenClock, load_settings
    from civicshield.intel.taxii.query import Query, page, parse_query, select_entries
    from civicshield.intel.taxii.query_sql import sql_page
    from civicshield.intel.taxii.server import _metadata
    from civicshield.intel.taxii.stix import format_timestamp
    from civicshield.migrations import upgrade
    from civicshield.runtime import build_runtime

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(data_dir=Path(tmp), secret_key=secrets.token_hex(32))
        upgrade(settings.resolved_database_url)
        rt = build_runtime(settings, clock=FrozenClock(T0))
        started = time.perf_counter()
        cid = _seed(rt, args.objects)
        seeded = time.perf_counter() - started
        middle = T0 + timedelta(seconds=args.objects)  # half the objects were added after it
        queries: dict[str, Query] = {
            "first page (last versions)": parse_query({}, page_size=PAGE),
            "every version": parse_query({"match[version]": ["all"]}, page_size=PAGE),
            "added_after half-way": parse_query(
                {"added_after": [format_timestamp(middle)]}, page_size=PAGE
            ),
            "match[type]": parse_query({"match[type]": ["indicator"]}, page_size=PAGE),
        }
        # a page deep in the collection: the token of the half-way entry
        with rt.session() as s:
            entries = select_entries(
                _metadata(s, cid, queries["first page (last versions)"], None),
                queries["first page (last versions)"],
            )
            token = page(entries[: args.objects // 2 + 1], Query(
                **{**queries["first page (last versions)"].__dict__, "limit": args.objects // 2}
            )).next  # fmt: skip
        base = queries["first page (last versions)"]
        queries["a page half-way (next)"] = Query(**{**base.__dict__, "next": token})
        rows = []
        for label, q in queries.items():
            with rt.session() as s:
                sql_s, sql_page_ = _median(lambda q=q, s=s: sql_page(s, cid, q))
                py_s, py_page = _median(
                    lambda q=q, s=s: page(select_entries(_metadata(s, cid, q, None), q), q)
                )
            same = [e.id for e in sql_page_.entries] == [e.id for e in py_page.entries]
            rows.append({"query": label, "sql_s": sql_s, "python_s": py_s,
                         "ratio": py_s / sql_s, "same_page": same})  # fmt: skip
            print(f"{label:32} SQL {sql_s * 1000:8.1f} ms  Python {py_s * 1000:9.1f} ms  "
                  f"{py_s / sql_s:8.0f}x  same page: {same}")  # fmt: skip
        rt.close()
    versions = 2 * args.objects
    body = f"""One collection of {args.objects:,} indicators with two versions each ({versions:,}
versions), SQLite, page size {PAGE}; seeding took {seeded:.1f} s. Time to choose and page one
page of `GET …/objects/` (median of 5): the server's SQL path against the anchor, the Python
path it replaced (every version's metadata loaded, chosen and paged in Python), in the same
run. Both give the same page.

| Query | SQL path (ms) | Python path, anchor (ms) | Anchor ÷ SQL | Same page |
|---|---:|---:|---:|---|
""" + "\n".join(
        f"| {r['query']} | {r['sql_s'] * 1000:.1f} | {r['python_s'] * 1000:.1f} | "
        f"{r['ratio']:.0f}x | {'yes' if r['same_page'] else 'NO'} |"
        for r in rows
    )
    print(body)
    write_section(
        "taxii", body, {"objects": args.objects, "versions": versions, "rows": rows,
                        "cpu": cpu_name(), "date": datetime.now(UTC).isoformat()}
    )  # fmt: skip


if __name__ == "__main__":
    main()
