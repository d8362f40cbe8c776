"""`civicshield incidents clocks|clock start|event|assess|hold|hold-lift`: the legal clocks of a
case from the command line (every command takes `--json`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fmt_time,
    model,
    print_table,
    state,
    success,
)
from civicshield.core.errors import FieldError, Invalid

__all__ = ["register"]


def _emit(json_output: bool, data: Any, message: str) -> None:
    if json_output:
        emit_json(data.model_dump(mode="json"))
    else:
        success(message)


def _clocks(
    ctx: typer.Context,
    case_id: Annotated[int | None, typer.Argument(help="The case; omit with --due.")] = None,
    due: Annotated[bool, typer.Option("--due", help="Every open case, due soonest.")] = False,
    json_output: JsonOption = False,
) -> None:
    """A case's legal clocks (obligation, start, due in the city's zone, kind, status)."""
    from civicshield.incidents.legal import case_clocks, clocks_due

    rt = state(ctx).runtime()
    if case_id is None and not due:
        raise Invalid("give a case id, or --due for every open case")
    with rt.session() as session:
        if due:
            rows = [
                (d.case_id, d.clock)
                for d in clocks_due(
                    session, now=rt.clock.now(), within=None, settings_or_config=rt.settings
                )
            ]
        else:
            assert case_id is not None
            found = case_clocks(
                session, case_id, now=rt.clock.now(), settings_or_config=rt.settings
            )
            rows = [(case_id, v) for v in found]
    if json_output:
        emit_json([{"case_id": c, **v.model_dump(mode="json")} for c, v in rows])
        return
    print_table(
        ["case", "obligation", "start", "due (local)", "kind", "status"],
        (
            [
                c,
                v.obligation_id,
                f"{v.start.kind} {fmt_time(v.start.at)}"
                if v.start
                else f"waiting: {v.waiting_for}",
                v.due_local or "—",
                "internal target (not statutory)" if v.kind == "internal-target" else "statutory",
                v.status,
            ]
            for c, v in rows
        ),
    )


def _clock_start(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="The case.")],
    obligation: Annotated[str, typer.Argument(help="e.g. qc-a21.cai, gdpr.art33.")],
    json_output: JsonOption = False,
) -> None:
    """Start a legal clock on a case."""
    from civicshield.incidents.legal import LegalConfig, start_clock

    rt = state(ctx).runtime()
    with rt.session() as session:
        made = start_clock(
            session, case_id, obligation, config=LegalConfig.from_settings(rt.settings),
            actor=cli_actor(), clock=rt.clock,
        )  # fmt: skip
    _emit(json_output, made, f"clock {obligation} runs on case {case_id}")


def _event(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="The case.")],
    kind: Annotated[str, typer.Argument(help="cause_to_believe, became_aware, ...")],
    at: Annotated[str, typer.Option("--at", help='e.g. "2026-03-07 20:00", or with offset.')],
    zone: Annotated[str | None, typer.Option("--zone", help="IANA zone of --at.")] = None,
    obligation: Annotated[str | None, typer.Option("--obligation", help="Only for it.")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    corrects: Annotated[int | None, typer.Option("--corrects", help="Event id corrected.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Record a start event (a correction is a new event with --corrects)."""
    from civicshield.incidents.legal import LegalConfig, StartEventCreate, record_start_event

    rt = state(ctx).runtime()
    data = model(StartEventCreate, kind=kind, at=at, zone=zone, obligation_id=obligation,
                 note=note, corrects=corrects)  # fmt: skip
    with rt.session() as session:
        made = record_start_event(
            session, case_id, data, config=LegalConfig.from_settings(rt.settings),
            actor=cli_actor(), clock=rt.clock,
        )  # fmt: skip
    _emit(json_output, made, f"start event {made.id}: {kind} at {made.at.isoformat()}")


def _factors(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Invalid(
                f"--factor {item!r} is not key=value", [FieldError(("factor",), "not key=value")]
            )
        out[key.strip()] = value.strip()
    return out


def _assess(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="The case.")],
    requirement: Annotated[str, typer.Argument(help="e.g. risk_of_serious_injury.")],
    met: Annotated[bool, typer.Option("--met/--not-met", help="The answer.")],
    reasoning: Annotated[str, typer.Option("--reasoning", help="Why (required).")],
    factor: Annotated[list[str] | None, typer.Option("--factor", help="key=value")] = None,
    consulted: Annotated[str, typer.Option("--consulted")] = "",
    json_output: JsonOption = False,
) -> None:
    """Record a risk assessment (kept even when the answer is "do not notify")."""
    from civicshield.incidents.legal import AssessmentCreate, record_assessment

    rt = state(ctx).runtime()
    data = model(AssessmentCreate, requirement=requirement, met=met, reasoning=reasoning,
                 factors=_factors(factor or []), consulted=consulted)  # fmt: skip
    with rt.session() as session:
        made = record_assessment(session, case_id, data, actor=cli_actor(), clock=rt.clock)
    _emit(json_output, made, f"assessment {made.id}: {requirement} {'met' if met else 'not met'}")


def _hold(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="The case.")],
    reason: Annotated[str, typer.Option("--reason")],
    authority: Annotated[str, typer.Option("--authority", help="Who asked for the hold.")],
    review_on: Annotated[str, typer.Option("--review-on", help="YYYY-MM-DD")],
    obligation: Annotated[str | None, typer.Option("--obligation")] = None,
    json_output: JsonOption = False,
) -> None:
    """Place an investigation hold on a suspendable clock."""
    from civicshield.incidents.legal import HoldCreate, LegalConfig, place_hold

    rt = state(ctx).runtime()
    try:
        review = date.fromisoformat(review_on)
    except ValueError:
        raise Invalid(f"--review-on {review_on!r} is not a date (YYYY-MM-DD)") from None
    data = model(HoldCreate, obligation_id=obligation, reason=reason, authority=authority,
                 review_on=review)  # fmt: skip
    with rt.session() as session:
        made = place_hold(
            session, case_id, data, config=LegalConfig.from_settings(rt.settings),
            actor=cli_actor(), clock=rt.clock,
        )  # fmt: skip
    _emit(json_output, made, f"hold {made.id} placed on case {case_id}")


def _hold_lift(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(help="The case.")],
    hold_id: Annotated[int, typer.Argument(help="The hold.")],
    json_output: JsonOption = False,
) -> None:
    """Lift an investigation hold."""
    from civicshield.incidents.legal import lift_hold

    rt = state(ctx).runtime()
    with rt.session() as session:
        made = lift_hold(session, case_id, hold_id, actor=cli_actor(), clock=rt.clock)
    _emit(json_output, made, f"hold {hold_id} lifted")


def register(app: typer.Typer) -> None:
    """Add the clocks commands to `civicshield incidents`."""
    app.command("clocks")(_clocks)
    clock_app = typer.Typer(no_args_is_help=True, help="Start legal clocks on a case.")
    clock_app.command("start")(_clock_start)
    app.add_typer(clock_app, name="clock")
    app.command("event")(_event)
    app.command("assess")(_assess)
    app.command("hold")(_hold)
    app.command("hold-lift")(_hold_lift)
