"""`civicshield events sources|detect|send|listen`: ingest health, continuous detection over
what is spooled now, a file's records through the same path as the HTTP endpoint, and the
syslog listener and file tailers in the foreground (registered on `events_app` by
`cli/__init__.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    emit_json,
    fail,
    fmt_time,
    print_table,
    state,
    success,
)
from civicshield.cli.ingest import events_app

__all__ = ["events_app", "register"]


def _sources(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Ingest health per dataset (events/s over five minutes, the last day's events and
    quarantined records, newest event, lag) and per source (status ok, silent or learning,
    totals, newest event and arrival, lag from event time to detection)."""
    from civicshield import telemetry

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = telemetry.list_sources(
            session, clock=rt.clock, factor=rt.settings.source_silence_factor
        )
        datasets = telemetry.list_datasets(session, clock=rt.clock)
    if json_output:
        emit_json(
            {"sources": [h.to_dict() for h in found], "datasets": [d.to_dict() for d in datasets]}
        )
        return
    print_table(
        [
            "dataset",
            "sources",
            "events/s",
            "events (24 h)",
            "quarantined (24 h)",
            "last event",
            "lag (s)",
        ],
        (
            [
                d.dataset or "—",
                d.sources,
                d.events_per_second,
                d.events_last_day,
                d.quarantined_last_day,
                fmt_time(d.last_event_at),
                "—" if d.lag_seconds is None else d.lag_seconds,
            ]
            for d in datasets
        ),
        title="by dataset",
    )
    print_table(
        [
            "source",
            "dataset",
            "status",
            "events/s",
            "events",
            "quarantined",
            "last event",
            "last arrival",
            "lag (s)",
            "interval (s)",
        ],
        (
            [
                h.name,
                h.dataset,
                h.status,
                h.events_per_second,
                h.events_total,
                h.quarantined_total,
                fmt_time(h.last_event_at),
                fmt_time(h.last_received_at),
                "—" if h.lag_seconds is None else h.lag_seconds,
                h.expected_interval_seconds or h.learned_interval_seconds or "—",
            ]
            for h in found
        ),
        title="by source",
    )


def _detect(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Run continuous detection now over everything spooled (the `telemetry.detect` job does
    this in the background)."""
    from civicshield import telemetry

    rt = state(ctx).runtime()
    report = telemetry.detect_spooled(rt.session, rt.settings, clock=rt.clock, max_batches=10**6)
    if json_output:
        emit_json(report.to_dict())
        return
    if report.note:
        typer.echo(f"note: no detection rules: {report.note}", err=True)
    success(
        f"{report.events:,} events in {report.batches} micro-batch(es) through {report.rules} "
        f"rules: {report.matches:,} matches, {report.created} new alert(s), {report.updated} "
        f"updated, {report.suppressed} suppressed"
    )


def _send(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dataset: Annotated[
        str, typer.Option("--dataset", help="e.g. zeek.conn, suricata, syslog, windows.")
    ],
    json_output: JsonOption = False,
) -> None:
    """Queue a file's records for continuous detection, as `POST /api/v1/ingest/{dataset}`
    would (then `civicshield events detect`, or let the worker run it)."""
    from civicshield import telemetry
    from civicshield.detect.readers.base import line_batches

    rt = state(ctx).runtime()
    fmt = telemetry.format_for_dataset(dataset)
    totals = {"received": 0, "accepted": 0, "quarantined": 0}
    for batch in line_batches(path, str(path), 50_000):
        with rt.session() as session:
            report = telemetry.intake(
                session, rt.settings, registry=rt.jobs, clock=rt.clock, kind="file",
                source=str(path), lines=batch, fmt=fmt, dataset=dataset, force=True,
            )  # fmt: skip
        for key in totals:
            totals[key] += getattr(report, key)
    if json_output:
        emit_json(totals)
        return
    if not totals["received"]:
        fail(f"{path}: no records")
    success(
        f"{path}: {totals['accepted']:,} queued for detection, {totals['quarantined']:,} "
        f"quarantined (of {totals['received']:,})"
    )


def _listen(
    ctx: typer.Context,
    udp: Annotated[int | None, typer.Option("--udp", help="Syslog over UDP on this port.")] = None,
    tcp: Annotated[int | None, typer.Option("--tcp", help="Syslog over TCP on this port.")] = None,
    tls: Annotated[int | None, typer.Option("--tls", help="Syslog over TLS on this port.")] = None,
    cert: Annotated[Path | None, typer.Option("--cert", help="TLS certificate (PEM).")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="TLS private key (PEM).")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to bind.")] = None,
    tail: Annotated[
        list[str] | None,
        typer.Option(
            "--tail", help="FORMAT:GLOB to follow (repeatable), e.g. eve:/var/log/eve.json"
        ),
    ] = None,
) -> None:
    """Run the collector in the foreground: the syslog listener and file tailers (defaults from
    CIVICSHIELD_SYSLOG_* and CIVICSHIELD_TAIL_PATHS) feed continuous detection until Ctrl-C.
    `civicshield serve` runs the same collector when those settings are set."""
    import time

    from civicshield import telemetry

    overrides: dict[str, object] = {
        "syslog_udp_port": udp, "syslog_tcp_port": tcp, "syslog_tls_port": tls,
        "syslog_tls_cert": cert, "syslog_tls_key": key, "syslog_host": host,
        "tail_paths": tail,
    }  # fmt: skip
    st = state(ctx)
    settings = st.settings(**{k: v for k, v in overrides.items() if v is not None})
    rt = st.runtime(settings)
    collector = telemetry.Collector.from_settings(
        rt.session, settings, registry=rt.jobs, clock=rt.clock
    )
    if collector is None:
        fail("nothing to collect: give --udp, --tcp, --tls or --tail (or the settings)")
    collector.start()
    status = collector.status()
    ports = status["syslog"]["ports"] if status["syslog"] else "no syslog"
    tails = [t["format"] for t in status["tails"]] or "nothing"
    typer.echo(f"listening: {ports}; tailing: {tails}; Ctrl-C stops")
    try:
        while True:
            time.sleep(60)
            typer.echo(f"collected so far: {collector.status()['counts']}")
    except KeyboardInterrupt:
        pass
    finally:
        collector.stop()
        success(f"stopped; collected {collector.status()['counts']}")


def register(app: typer.Typer) -> None:
    app.command("sources")(_sources)
    app.command("detect")(_detect)
    app.command("send")(_send)
    app.command("listen")(_listen)


# The `events` group: `ingest`'s commands plus these (`civicshield.cli.COMMANDS` loads it here).
register(events_app)
