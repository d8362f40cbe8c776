"""`civicshield incidents export|timeline|observables|related|metrics`: the case timeline, the
incident report (HTML/PDF with recommendation blocks), observables and related cases, and the
response metrics (MTTD/MTTR). Every listing takes `--json`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fail,
    fmt_time,
    print_table,
    state,
    success,
)

__all__ = ["register"]

_FORMATS = ("html", "pdf", "json", "csv")


def _markers(session: Any, rt: Any, case_id: int) -> list[Any]:
    from civicshield.incidents.reporting import legal_markers

    return legal_markers(session, case_id, now=rt.clock.now(), settings=rt.settings)


def export(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    fmt: Annotated[
        str,
        typer.Option("--format", "-f", help="html, pdf (the report), json, csv (the timeline)."),
    ] = "html",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path("-"),
    lang: Annotated[str, typer.Option("--lang", help="Report language: en, es or fr.")] = "en",
    block: Annotated[
        list[str] | None, typer.Option("--block", "-b", help="Recommendation block id (repeat).")
    ] = None,
) -> None:
    """Export a case: its incident report (html, pdf) or its timeline (json, csv)."""
    from civicshield.incidents.reporting import (
        build_timeline,
        render_case_report_html,
        render_case_report_pdf,
        timeline_csv,
        timeline_json,
    )

    if fmt not in _FORMATS:
        fail(f"--format must be one of {', '.join(_FORMATS)} (got {fmt!r})")
    if str(out) == "-" and fmt == "pdf":
        fail("--out is required for a PDF")
    rt = state(ctx).runtime()
    with rt.session() as session:
        markers = _markers(session, rt, case_id)
        if fmt in ("json", "csv"):
            entries = build_timeline(session, case_id, markers=markers)
            data: str | bytes = (
                timeline_json(case_id, entries) if fmt == "json" else timeline_csv(entries)
            )
        else:
            render = render_case_report_pdf if fmt == "pdf" else render_case_report_html
            data = render(
                session, case_id, markers=markers, blocks=block or [], language=lang,
                generated_at=rt.clock.now(), tz=rt.settings.default_timezone,
                city_name=rt.settings.city_name,
            )  # fmt: skip
    if str(out) == "-":
        typer.echo(data if isinstance(data, str) else data.decode())
        return
    if isinstance(data, str):
        out.write_text(data, encoding="utf-8")
    else:
        out.write_bytes(data)
    success(f"wrote {out} ({fmt}, case {case_id})")


def timeline(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only this kind (repeat).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """The case's timeline, oldest first, with the legal deadlines as markers."""
    from civicshield.incidents.reporting import build_timeline, timeline_rows

    rt = state(ctx).runtime()
    with rt.session() as session:
        entries = build_timeline(
            session, case_id, markers=_markers(session, rt, case_id), kinds=kind or ()
        )
    if json_output:
        emit_json(timeline_rows(entries))
        return
    print_table(
        ["when", "kind", "who", "what"],
        (
            [fmt_time(e.at), ("⏰ " if e.marker else "") + e.kind, e.actor, e.summary]
            for e in entries
        ),
        caption=f"{len(entries)} entries",
    )


def observables(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="TYPE=VALUE to add (repeat).")
    ] = None,
    ioc: Annotated[bool, typer.Option("--ioc", help="Mark the added ones as IOCs.")] = False,
    from_alerts: Annotated[
        bool, typer.Option("--from-alerts", help="Take them from the alerts.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List a case's observables; add some (`--add ipv4=203.0.113.7`) or take them from its
    alerts first."""
    from civicshield.incidents import observables as obs

    rt = state(ctx).runtime()
    actor = cli_actor()
    with rt.session() as session:
        for item in add or []:
            kind, sep, value = item.partition("=")
            if not sep:
                fail(f"--add takes TYPE=VALUE (got {item!r})")
            data = obs.ObservableCreate(type=kind.strip(), value=value, ioc=ioc)
            obs.add_observable(session, case_id, data, actor=actor, clock=rt.clock)
        if from_alerts:
            obs.from_alerts(session, case_id, actor=actor, clock=rt.clock)
        found = obs.list_observables(session, case_id)
    if json_output:
        emit_json(found)
        return
    print_table(
        ["id", "type", "value", "ioc", "tlp", "added"],
        (
            [o.id, o.type, o.value, "yes" if o.ioc else "", o.tlp.value, fmt_time(o.added_at)]
            for o in found
        ),
        caption=f"{len(found)} observables",
    )


def related(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    json_output: JsonOption = False,
) -> None:
    """Other cases sharing an observable with this one."""
    from civicshield.incidents.observables import related_cases

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = related_cases(session, case_id)
    if json_output:
        emit_json(found)
        return
    print_table(
        ["id", "status", "title", "shared"],
        ([r.id, r.status, r.title, ", ".join(r.shared)] for r in found),
        caption=f"{len(found)} related cases",
    )


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f}"


def metrics(
    ctx: typer.Context,
    since: Annotated[
        datetime | None, typer.Option("--since", help="From (YYYY-MM-DD or ISO).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", help="Before (YYYY-MM-DD or ISO).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """MTTD and MTTR (hours, median and mean) by sector and by type, and open cases."""
    from civicshield.incidents.reporting import compute_metrics

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = compute_metrics(session, since=since, until=until)
    if json_output:
        emit_json(found)
        return
    rows = [("all", found.total)] + [("sector", r) for r in found.by_sector]
    rows += [("type", r) for r in found.by_type]
    print_table(
        [
            "by",
            "group",
            "detected",
            "MTTD median h",
            "MTTD mean h",
            "resolved",
            "MTTR median h",
            "MTTR mean h",
        ],
        (
            [
                by,
                r.group,
                r.detected,
                _hours(r.mttd_median_s),
                _hours(r.mttd_mean_s),
                r.resolved,
                _hours(r.mttr_median_s),
                _hours(r.mttr_mean_s),
            ]
            for by, r in rows
        ),
        caption="open: "
        + (", ".join(f"{k} {v}" for k, v in found.open_by_status.items()) or "none"),
    )


def register(app: typer.Typer) -> None:
    """Add the timeline, report, observables and metrics commands to `civicshield incidents`."""
    app.command("export")(export)
    app.command("timeline")(timeline)
    app.command("observables")(observables)
    app.command("related")(related)
    app.command("metrics")(metrics)
