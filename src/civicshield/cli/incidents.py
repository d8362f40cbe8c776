"""`civicshield incidents list|show|open|update|playbook|task`: incident cases from the command
line (every command takes `--json`). Clocks, notices and exports come with the rest of issue 9."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

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
    from civicshield.incidents import TaskRead

__all__ = ["incidents_app"]

incidents_app = typer.Typer(
    cls=CliGroup, no_args_is_help=True, help="Incident cases: list, show, open from alerts, change."
)


@incidents_app.command("list")
def list_cases(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only cases not closed.")] = False,
    sector: Annotated[str | None, typer.Option("--sector", help="Touching this sector.")] = None,
    q: Annotated[str | None, typer.Option("--search", "-q", help="Part of the title.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """Cases, newest first."""
    from civicshield import incidents
    from civicshield.core import Sector

    rt = state(ctx).runtime()
    chosen = parse_choice(Sector.parse, sector) if sector else None
    with rt.session() as session:
        page = incidents.list_cases(session, open_only=open_only, sector=chosen, q=q, limit=limit)
    if json_output:
        emit_json(page.model_dump())
        return
    print_table(
        ["id", "severity", "status", "title", "sectors", "owner", "opened"],
        (
            [
                c.id,
                c.severity.value,
                c.status.value,
                c.title,
                " ".join(s.value for s in c.sectors) or "—",
                c.owner,
                fmt_time(c.opened_at),
            ]
            for c in page.items
        ),
        caption=f"{len(page.items)} of {page.total}",
    )


@incidents_app.command("show")
def show(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    json_output: JsonOption = False,
) -> None:
    """One case: fields, alerts, tasks and the history of every change."""
    from civicshield import incidents

    rt = state(ctx).runtime()
    with rt.session() as session:
        c = incidents.get_case(session, case_id)
    if json_output:
        emit_json(c.model_dump())
        return
    out = console()
    out.print(Text(f"#{c.id} {c.title}", style="bold"), f"({c.severity.value}, {c.status.value})")
    print_table(
        ["", ""],
        [
            ("owner", c.owner or "—"),
            ("TLP / PAP", f"{c.tlp.value} / {c.pap.value}"),
            ("sectors", " ".join(s.value for s in c.sectors) or "—"),
            ("assets", " ".join(map(str, c.asset_ids)) or "—"),
            ("ATT&CK", " ".join(c.techniques) or "—"),
            ("alerts", " ".join(map(str, c.alert_ids)) or "—"),
            ("opened", fmt_time(c.opened_at)),
            ("first event", fmt_time(c.first_event_at)),
            ("closed", f"{fmt_time(c.closed_at)} {c.resolution}".strip()),
        ],
    )
    if c.tasks:
        _print_tasks(c.tasks)
    print_table(
        ["when", "who", "field", "from", "to", "reason"],
        ([fmt_time(h.at), h.actor, h.field, h.old, h.new, h.reason] for h in c.history),
        title="history",
    )


@incidents_app.command("open")
def open_case(
    ctx: typer.Context,
    alert_ids: Annotated[list[int], typer.Argument(help="Alerts to escalate into the case.")],
    into: Annotated[int | None, typer.Option("--into", help="Merge into this case.")] = None,
    title: Annotated[str | None, typer.Option("--title", help="Title of a new case.")] = None,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Kept in the history.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Escalate alerts into a new case, or merge them into an open one (--into)."""
    from civicshield import incidents
    from civicshield.incidents import CaseFromAlerts

    rt = state(ctx).runtime()
    data = CaseFromAlerts(alert_ids=alert_ids, case_id=into, title=title, reason=reason)
    with rt.session() as session:
        case = incidents.open_from_alerts(session, data, actor=cli_actor(), clock=rt.clock)
    if json_output:
        emit_json(case.model_dump())
        return
    success(f"case {case.id}: {case.title} ({case.severity.value}) holds alerts {alert_ids}")


@incidents_app.command("update")
def update(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    status: Annotated[
        str | None,
        typer.Option(help="new, triage, contain, eradicate, recover or closed."),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Who leads the response.")] = None,
    severity: Annotated[str | None, typer.Option(help="informational … critical.")] = None,
    resolution: Annotated[str | None, typer.Option(help="How it ended (to close).")] = None,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Kept in the history.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Change a case's status, owner, severity or resolution (each change kept)."""
    from civicshield import incidents
    from civicshield.core import Severity
    from civicshield.incidents import CaseStatus, CaseUpdate

    rt = state(ctx).runtime()
    fields: dict[str, object] = {"reason": reason}
    if status:
        fields["status"] = parse_choice(CaseStatus.parse, status)
    if severity:
        fields["severity"] = parse_choice(Severity.parse, severity)
    if owner is not None:
        fields["owner"] = owner
    if resolution is not None:
        fields["resolution"] = resolution
    with rt.session() as session:
        case = incidents.update_case(
            session, case_id, CaseUpdate.model_validate(fields), actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json(case.model_dump())
        return
    success(f"case {case.id}: {case.status.value}, {case.severity.value}, owner {case.owner}")


@incidents_app.command("playbook")
def playbook(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    playbook_id: Annotated[str, typer.Argument(help="e.g. ransomware, scada-ot-intrusion.")],
    lang: Annotated[str, typer.Option("--lang", help="Task texts in en, es or fr.")] = "en",
    json_output: JsonOption = False,
) -> None:
    """Apply a playbook: its tasks, with roles, checklists and due times, join the case."""
    from civicshield import incidents

    rt = state(ctx).runtime()
    with rt.session() as session:
        tasks = incidents.apply_playbook(
            session, case_id, playbook_id, actor=cli_actor(), clock=rt.clock, lang=lang
        )
    if json_output:
        emit_json([t.model_dump() for t in tasks])
        return
    _print_tasks(tasks)


def _print_tasks(tasks: list[TaskRead]) -> None:
    print_table(
        ["id", "phase", "task", "role", "due", "status", "approval"],
        (
            [
                t.id,
                t.phase,
                t.title,
                t.role,
                fmt_time(t.due_at),
                t.status,
                (t.approved_by or "needed") if t.requires_approval else "",
            ]
            for t in tasks
        ),
    )


@incidents_app.command("task")
def task(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    task_id: Annotated[int, typer.Argument(help="Task id (see `incidents show`).")],
    status: Annotated[str | None, typer.Option("--status", help="done, skipped or open.")] = None,
    approve: Annotated[
        bool, typer.Option("--approve", help="Approve the task's automated action.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Approve a task's automated action and/or set its status."""
    from civicshield import incidents

    rt = state(ctx).runtime()
    with rt.session() as session:
        result = None
        if approve:
            result = incidents.approve_task(
                session, case_id, task_id, actor=cli_actor(), clock=rt.clock
            )
        if status:
            result = incidents.set_task_status(
                session, case_id, task_id, status, actor=cli_actor(), clock=rt.clock
            )
    if result is None:
        typer.echo("nothing to do: give --approve and/or --status", err=True)
        raise typer.Exit(2)
    if json_output:
        emit_json(result.model_dump())
        return
    success(f"task {result.id} ({result.key}): {result.status}")


def _register_sections() -> None:
    from civicshield.cli import (
        incidents_clocks,
        incidents_evidence,
        incidents_notices,
        incidents_timeline,
    )

    for module in (incidents_clocks, incidents_notices, incidents_evidence, incidents_timeline):
        module.register(incidents_app)


_register_sections()
