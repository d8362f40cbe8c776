"""`civicshield hunt "SQL"`: Polars SQL over the event store (`<data_dir>/events`).

The table is `events`: every stored event in the range, columns unioned by name across datasets
(a column a dataset lacks reads as null), plus `event.dataset` and the partition `day`.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from civicshield.cli._common import fail, state

__all__ = ["hunt"]

_FORMATS = ("table", "csv", "jsonl")


def hunt(
    ctx: typer.Context,
    sql: Annotated[str, typer.Argument(help='A query over the table `events`, e.g. "SELECT …".')],
    since: Annotated[
        str | None, typer.Option("--since", help="30d, 12h, 45m, or an ISO date/time.")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Same forms as --since.")] = None,
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="Only this dataset (repeatable).")
    ] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or jsonl.")] = "table",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N rows.")] = None,
) -> None:
    """Hunt over stored events with SQL; the time range and datasets prune whole partitions,
    the query's own filters are pushed down to the Parquet files."""
    from civicshield.detect.eventstore import EventStore, parse_since
    from civicshield.detect.eventstore import hunt as run_hunt

    if output not in _FORMATS:
        fail(f"--format must be one of {', '.join(_FORMATS)}")
    now = datetime.now(UTC)
    settings = state(ctx).settings()
    store = EventStore(settings.data_dir / "events")
    result = run_hunt(
        store,
        sql,
        since=parse_since(since, now=now) if since else None,
        until=parse_since(until, now=now) if until else None,
        datasets=dataset,
        limit=limit,
    )
    if output == "csv":
        sys.stdout.write(result.write_csv())
    elif output == "jsonl":
        sys.stdout.write(result.write_ndjson())
    else:
        import polars as pl

        with pl.Config(tbl_rows=min(result.height, 200), tbl_cols=-1, fmt_str_lengths=80):
            typer.echo(str(result))
