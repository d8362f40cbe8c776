"""The SQLite-per-rule anchor for bench/detect.py: Zircolite's design, measured on its own.

Runs with the bench's own venv (pySigma 1.5.1, pysigma-backend-sqlite 2.0.0,
pysigma-pipeline-sysmon 2.0.0, pysigma-pipeline-windows 2.0.1), never with CivicShield's.

    convert RULES_DIR OUT.json   SigmaHQ rules -> one SQLite query list per rule (untimed)
    run RULES.json EVENTS.jsonl OUT.json [--lines]
                                 load the events into an in-memory table, run every query

`run` mirrors what Zircolite v3.7.0 did to make `zircolite_reference.json` (see its
SOURCE.md): every key of the flattened JSON is a `TEXT COLLATE NOCASE` column, keys that
differ only in case share one column (SQLite folds column names; the last key of a line
wins, which keeps System `ProcessID` over EventData `ProcessId` as Zircolite did), rows go in
with `executemany` in batches, `REGEXP` is a Python `re.search`, and a rule whose SQL names
a column no event has fails with "no such column" and is dropped. The timed part is the
table build (inserts, the EventID/Channel indexes) plus every query; JSON parsing is timed
separately.
"""

from __future__ import annotations

import functools
import json
import re
import resource
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

BATCH = 10_000


def convert(rules_dir: Path, out: Path) -> None:
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    from sigma.pipelines.sysmon import sysmon_pipeline
    from sigma.pipelines.windows import windows_logsource_pipeline

    started = time.perf_counter()
    collection = SigmaCollection.load_ruleset([rules_dir], collect_errors=True)
    backend = sqliteBackend(sysmon_pipeline() + windows_logsource_pipeline(), collect_errors=True)
    rules = json.loads(backend.convert(collection, "zircolite"))
    errors = [f"{rule.source}: {error}" for rule, error in backend.errors]
    out.write_text(
        json.dumps(
            {
                "rules": [
                    {"id": r["id"], "title": r["title"], "level": r["level"], "sql": r["rule"]}
                    for r in rules
                ],
                "conversion_errors": errors,
                "convert_s": round(time.perf_counter() - started, 2),
            }
        ),
        encoding="utf-8",
    )
    print(f"anchor: {len(rules)} rules converted, {len(errors)} not convertible")


@functools.lru_cache(maxsize=4096)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _regexp(regex: str, value: Any) -> int:
    # SQLite calls regexp(pattern, value) for `value REGEXP pattern`
    if value is None:
        return 0
    return 1 if _pattern(regex).search(str(value)) else 0


def _columns(events: Path) -> list[str]:
    """Every key of the file, folded as SQLite folds column names (first spelling kept)."""
    seen: dict[str, str] = {}
    with events.open("rb") as fh:
        for line in fh:
            for key in json.loads(line):
                seen.setdefault(key.lower(), key)
    return list(seen.values())


def run(rules_json: Path, events: Path, out: Path, *, with_lines: bool) -> None:
    wall_start = time.perf_counter()
    ruleset = json.loads(rules_json.read_text(encoding="utf-8"))["rules"]
    columns = _columns(events)
    index = {c.lower(): i + 1 for i, c in enumerate(columns)}  # slot 0 is the rowid
    db = sqlite3.connect(":memory:")
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-131072"):
        db.execute(f"PRAGMA {pragma}")
    db.create_function("regexp", 2, _regexp, deterministic=True)
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    db.execute(
        "CREATE TABLE logs ("
        + ", ".join('"' + c.replace('"', '""') + '" TEXT COLLATE NOCASE' for c in columns)
        + ")"
    )
    # Column names come from the event file, quoted; values are bound parameters.
    insert = f"INSERT INTO logs (rowid, {quoted}) VALUES ({', '.join('?' * (len(columns) + 1))})"  # noqa: S608
    parse_s = insert_s = 0.0
    n = 0
    with events.open("rb") as fh:
        while True:
            t0 = time.perf_counter()
            rows = []
            for line in fh:
                n += 1
                row: list[Any] = [None] * (len(columns) + 1)
                row[0] = n  # rowid = 1-based line number
                for key, value in json.loads(line).items():
                    row[index[key.lower()]] = value
                rows.append(row)
                if len(rows) == BATCH:
                    break
            t1 = time.perf_counter()
            parse_s += t1 - t0
            if not rows:
                break
            db.executemany(insert, rows)
            insert_s += time.perf_counter() - t1
    t1 = time.perf_counter()
    for column in ("EventID", "Channel"):  # Zircolite indexes these two
        if column.lower() in index:
            db.execute(f"CREATE INDEX idx_{column} ON logs({column})")
    t2 = time.perf_counter()
    insert_s += t2 - t1
    detections: list[tuple[str, int]] = []
    dropped: list[str] = []
    failed: list[str] = []
    for rule in ruleset:
        try:
            for sql in rule["sql"]:
                query = sql.replace("SELECT * FROM logs WHERE", "SELECT rowid FROM logs WHERE", 1)
                detections.extend((rule["id"], line) for (line,) in db.execute(query))
        except sqlite3.OperationalError as exc:
            (dropped if "no such column" in str(exc) else failed).append(f"{rule['id']}: {exc}")
    query_s = time.perf_counter() - t2
    timed = insert_s + query_s
    result = {
        "events": n,
        "columns": len(columns),
        "rules": len(ruleset),
        "rules_dropped_missing_column": len(dropped),
        "rules_failed": failed,
        "detections": len(detections),
        "rules_matched": len({r for r, _ in detections}),
        "parse_s": round(parse_s, 3),
        "insert_s": round(insert_s, 3),
        "query_s": round(query_s, 3),
        "timed_s": round(timed, 3),
        "events_per_s": round(n / timed, 1),
        "wall_s": round(time.perf_counter() - wall_start, 3),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if with_lines:
        result["pairs"] = sorted(detections)
    out.write_text(json.dumps(result), encoding="utf-8")
    print(
        f"anchor: {n} events, {len(ruleset) - len(dropped) - len(failed)} rules run "
        f"({len(dropped)} dropped: missing column), {len(detections)} detections, "
        f"{result['events_per_s']} events/s (insert {insert_s:.2f} s + queries {query_s:.2f} s)"
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["convert"] and len(argv) == 3:
        convert(Path(argv[1]), Path(argv[2]))
    elif argv[:1] == ["run"] and len(argv) in (4, 5):
        run(Path(argv[1]), Path(argv[2]), Path(argv[3]), with_lines="--lines" in argv[4:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
