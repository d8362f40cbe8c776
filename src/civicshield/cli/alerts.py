"""`civicshield alerts list|groups|show|ack|escalate|close|reopen|undo|suppress|suppressions|
unsuppress`: the alert queue from the command line (every command takes `--json`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from civicshield.cli._common import (
    CliGroup,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fmt_time,
    parse_choice,
    print_table,
    state,
    success,
)

if TYPE_CHECKING:
    from civicshield.alerts import AlertFilter

__all__ = ["alerts_app"]

alerts_app = typer.Typer(
    cls=CliGroup, no_args_is_help=True, help="The alert queue: list, triage, suppress."
)

IdsArg = Annotated[list[int], typer.Argument(help="Alert ids.", show_default=False)]
ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="Why (kept in the history).")]


def _filter(
    status: list[str] | None,
    all_statuses: bool,
    min_severity: str | None,
    sector: list[str] | None,
    dataset: list[str] | None,
    technique: str | None,
    since: str | None,
    q: str | None,
) -> AlertFilter:
    from civicshield.alerts import AlertFilter, AlertStatus
    from civicshield.core import Sector, Severity
    from civicshield.detect.eventstore import parse_since

    chosen = AlertFilter(
        min_severity=parse_choice(Severity.parse, min_severity) if min_severity else None,
        sectors=[parse_choice(Sector.parse, s) for s in sector or []],
        datasets=dataset or [],
        technique=technique,
        since=parse_since(since, now=datetime.now(UTC)) if since else None,
        q=q,
    )
    if all_statuses:
        chosen.statuses = []
    elif status:
        chosen.statuses = [parse_choice(AlertStatus.parse, s) for s in status]
    return chosen


StatusOpt = Annotated[
    list[str] | None,
    typer.Option("--status", help="new, acknowledged, escalated, closed (default: open ones)."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every status, closed ones included.")]
LevelOpt = Annotated[str | None, typer.Option("--min-severity", help="e.g. high.")]
SectorOpt = Annotated[list[str] | None, typer.Option("--sector", help="Asset sector.")]
DatasetOpt = Annotated[list[str] | None, typer.Option("--dataset", help="Event dataset.")]
TechniqueOpt = Annotated[str | None, typer.Option("--technique", help="ATT&CK, e.g. T1110.")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="30d, 12h, an ISO date.")]
SearchOpt = Annotated[str | None, typer.Option("--search", "-q", help="Rule, asset, fields.")]


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    status: StatusOpt = None,
    all_statuses: AllOpt = False,
    min_severity: LevelOpt = None,
    sector: SectorOpt = None,
    dataset: DatasetOpt = None,
    technique: TechniqueOpt = None,
    since: SinceOpt = None,
    q: SearchOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """Alerts, newest first (open ones unless --status or --all)."""
    from civicshield import alerts

    chosen = _filter(status, all_statuses, min_severity, sector, dataset, technique, since, q)
    rt = state(ctx).runtime()
    with rt.session() as session:
        page = alerts.list_alerts(session, chosen, limit=limit)
    if json_output:
        emit_json(page.model_dump())
        return
    print_table(
        ["id", "severity", "rule", "key", "asset", "events", "last seen", "status"],
        (
            [
                a.id,
                a.severity.value,
                a.rule_title,
                " ".join(f"{k}={v}" for k, v in a.key_fields.items()),
                a.asset_name or "-",
                a.count,
                fmt_time(a.last_seen),
                a.status.value + (f" ({a.resolution.value})" if a.resolution else ""),
            ]
            for a in page.items
        ),
        caption=f"{len(page.items)} of {page.total}",
    )


@alerts_app.command("groups")
def groups(
    ctx: typer.Context,
    status: StatusOpt = None,
    all_statuses: AllOpt = False,
    min_severity: LevelOpt = None,
    sector: SectorOpt = None,
    since: SinceOpt = None,
    json_output: JsonOption = False,
) -> None:
    """The queue grouped by rule: alerts, events and the newest event time."""
    from civicshield import alerts

    chosen = _filter(status, all_statuses, min_severity, sector, None, None, since, None)
    rt = state(ctx).runtime()
    with rt.session() as session:
        found = alerts.list_groups(session, chosen)
    if json_output:
        emit_json([g.model_dump() for g in found])
        return
    print_table(
        ["severity", "rule", "alerts", "events", "newest", "ATT&CK"],
        (
            [
                g.severity.value,
                g.rule_title,
                g.alerts,
                g.events,
                fmt_time(g.newest),
                " ".join(g.techniques),
            ]
            for g in found
        ),
    )


@alerts_app.command("show")
def show(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    json_output: JsonOption = False,
) -> None:
    """One alert: rule (and its author), key fields, asset, sample raw events, history."""
    from civicshield import alerts

    rt = state(ctx).runtime()
    with rt.session() as session:
        a = alerts.get_alert(session, alert_id)
    if json_output:
        emit_json(a.model_dump())
        return
    out = console()
    out.print(
        Text(f"#{a.id} {a.rule_title}", style="bold"), f"({a.severity.value}, {a.status.value})"
    )
    rows: list[tuple[str, Any]] = [
        ("rule", f"{a.rule_id}  {a.rule_path}".strip()),
        ("author", a.rule_author or "-"),
        ("ATT&CK", " ".join(a.tactics + a.techniques) or "-"),
        ("dataset", a.dataset),
        ("key", " ".join(f"{k}={v}" for k, v in a.key_fields.items()) or "-"),
        ("asset", f"{a.asset_name} ({a.sector.value})" if a.asset_name and a.sector else "-"),
        ("events", f"{a.count} from {fmt_time(a.first_seen)} to {fmt_time(a.last_seen)}"),
    ]
    if a.resolution:
        rows.append(("resolution", f"{a.resolution.value}: {a.status_reason}"))
    print_table(["", ""], rows)
    print_table(
        ["time", "dataset", "line", "raw"],
        ([fmt_time(e.event_time), e.dataset, e.line or "", e.raw[:200]] for e in a.events),
        title="sample events",
    )
    if a.changes:
        print_table(
            ["when", "who", "step", "reason", "undone"],
            (
                [fmt_time(c.at), c.actor, c.action, c.reason, "yes" if c.undone else ""]
                for c in a.changes
            ),
            title="history",
        )


def _triage(ctx: typer.Context, ids: list[int], action: str, reason: str, resolution: str | None,
            json_output: bool) -> None:  # fmt: skip
    from civicshield import alerts
    from civicshield.alerts import Resolution

    rt = state(ctx).runtime()
    res = parse_choice(Resolution.parse, resolution) if resolution else None
    with rt.session() as session:
        result = alerts.triage(
            session, ids, action, resolution=res, reason=reason, actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json(result)
        return
    success(f"{action}: {len(result['changed'])} changed, {len(result['unchanged'])} unchanged")


@alerts_app.command("ack")
def ack(
    ctx: typer.Context, ids: IdsArg, reason: ReasonOpt = "", json_output: JsonOption = False
) -> None:
    """Acknowledge alerts (someone is looking at them)."""
    _triage(ctx, ids, "acknowledge", reason, None, json_output)


@alerts_app.command("escalate")
def escalate(
    ctx: typer.Context, ids: IdsArg, reason: ReasonOpt = "", json_output: JsonOption = False
) -> None:
    """Escalate alerts (they need a response)."""
    _triage(ctx, ids, "escalate", reason, None, json_output)


@alerts_app.command("close")
def close(
    ctx: typer.Context,
    ids: IdsArg,
    resolution: Annotated[
        str,
        typer.Option(
            "--as", help="true_positive, false_positive, benign or duplicate.", show_default=False
        ),
    ],
    reason: ReasonOpt = "",
    json_output: JsonOption = False,
) -> None:
    """Close alerts with a resolution."""
    _triage(ctx, ids, "close", reason, resolution, json_output)


@alerts_app.command("reopen")
def reopen(
    ctx: typer.Context, ids: IdsArg, reason: ReasonOpt = "", json_output: JsonOption = False
) -> None:
    """Reopen closed alerts."""
    _triage(ctx, ids, "reopen", reason, None, json_output)


@alerts_app.command("undo")
def undo(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="Alert id.")],
    json_output: JsonOption = False,
) -> None:
    """Undo the alert's last triage step."""
    from civicshield import alerts

    rt = state(ctx).runtime()
    with rt.session() as session:
        step = alerts.undo(session, alert_id, actor=cli_actor(), clock=rt.clock)
    if json_output:
        emit_json(step.model_dump())
        return
    success(f"undid {step.action} by {step.actor} on alert {alert_id}")


@alerts_app.command("suppress")
def suppress(
    ctx: typer.Context,
    alert_id: Annotated[int, typer.Argument(help="Suppress alerts similar to this one.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why.", show_default=False)],
    days: Annotated[int, typer.Option("--days", min=0, help="Expiry; 0: never.")] = 30,
    any_rule: Annotated[bool, typer.Option("--any-rule", help="Not only this rule.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Suppress matches like this alert's (same rule, key fields and dataset)."""
    from civicshield import alerts
    from civicshield.alerts import SuppressionCreate

    rt = state(ctx).runtime()
    with rt.session() as session:
        a = alerts.get_alert(session, alert_id)
        made = alerts.create_suppression(
            session,
            SuppressionCreate(
                rule_id="" if any_rule else a.rule_id,
                match=a.similar,
                reason=reason,
                expires_at=rt.clock.now() + timedelta(days=days) if days else None,
            ),
            actor=cli_actor(),
            clock=rt.clock,
        )
    if json_output:
        emit_json(made.model_dump())
        return
    success(f"suppression {made.id}: {made.rule_id or 'any rule'} where {made.match}")


@alerts_app.command("suppressions")
def suppressions(
    ctx: typer.Context,
    include_inactive: Annotated[bool, typer.Option("--all", help="Removed ones too.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Suppressions in force (and how much each hid)."""
    from civicshield import alerts

    rt = state(ctx).runtime()
    with rt.session() as session:
        found = alerts.list_suppressions(session, clock=rt.clock, include_inactive=include_inactive)
    if json_output:
        emit_json([s.model_dump() for s in found])
        return
    print_table(
        ["id", "rule", "match", "reason", "by", "expires", "hits", "active"],
        (
            [
                s.id,
                s.rule_title or s.rule_id or "any",
                s.match,
                s.reason,
                s.author,
                fmt_time(s.expires_at) if s.expires_at else "never",
                s.hits,
                "yes" if s.active else "no",
            ]
            for s in found
        ),
    )


@alerts_app.command("unsuppress")
def unsuppress(
    ctx: typer.Context, suppression_id: Annotated[int, typer.Argument(help="Suppression id.")]
) -> None:
    """Remove a suppression (it stays on record, inactive)."""
    from civicshield import alerts

    rt = state(ctx).runtime()
    with rt.session() as session:
        alerts.delete_suppression(session, suppression_id, actor=cli_actor(), clock=rt.clock)
    success(f"suppression {suppression_id} removed")
