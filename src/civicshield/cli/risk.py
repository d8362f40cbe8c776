"""`civicshield risk …`: sector risk for leadership: summary, snapshot, printable report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from civicshield.cli._common import JsonOption, emit_json, print_table, state, success

__all__ = ["risk_app"]

risk_app = typer.Typer(
    help="Sector risk: scores per sector and zone, daily snapshots, the printable report.",
    no_args_is_help=True,
)


@risk_app.command("summary")
def summary(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Risk per sector and for the city now (formula: docs/risk.md)."""
    from civicshield import vulns

    st = state(ctx)
    rt = st.runtime()
    with rt.session() as session:
        result = vulns.sector_risk(
            session, scope=None, clock=rt.clock, tz=st.settings().default_timezone
        )
    if json_output:
        emit_json(result.model_dump(mode="json"))
        return
    print_table(
        ["scope", "score", "band", "open", "overdue", "KEV", "accepted"],
        [
            (s.key, s.score, s.band.value, s.open_findings, s.overdue, s.kev, s.accepted)
            for s in [result.city, *result.sectors]
        ],
    )


@risk_app.command("snapshot")
def snapshot(ctx: typer.Context) -> None:
    """Store today's scores (the trend chart reads them; the daily job does this too)."""
    from civicshield import vulns

    st = state(ctx)
    rt = st.runtime()
    with rt.session() as session:
        result = vulns.take_snapshot(session, clock=rt.clock, tz=st.settings().default_timezone)
    success(f"risk snapshot for {result.day}: city {result.city.score} ({result.city.band.value})")


@risk_app.command("report")
def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the report.")],
    lang: Annotated[str, typer.Option("--lang", help="en, es or fr.")] = "en",
    html: Annotated[bool, typer.Option("--html", help="HTML instead of PDF.")] = False,
) -> None:
    """Write the printable risk report for city leadership (PDF by default)."""
    from civicshield import vulns

    st = state(ctx)
    settings = st.settings()
    rt = st.runtime()
    tz = settings.default_timezone
    with rt.session() as session:
        result = vulns.sector_risk(session, scope=None, clock=rt.clock, tz=tz)
        trend = vulns.risk_trend(session, scope=None, days=90, clock=rt.clock, tz=tz)
    args: dict[str, Any] = {
        "language": lang,
        "city_name": settings.city_name,
        "generated_at": rt.clock.now(),
        "tz": tz,
    }
    if html:
        output.write_text(vulns.render_risk_report_html(result, trend, **args), encoding="utf-8")
    else:
        output.write_bytes(vulns.render_risk_report_pdf(result, trend, **args))
    success(f"wrote {output} ({output.stat().st_size:,} bytes)")
