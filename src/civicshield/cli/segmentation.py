"""`civicshield segmentation show|check|apply|reset|preview`: the city's network segmentation
policy from the command line (`--json` everywhere)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    CliGroup,
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    print_table,
    state,
    success,
)

if TYPE_CHECKING:
    from civicshield.telemetry import PolicyCheck

__all__ = ["segmentation_app"]

segmentation_app = typer.Typer(
    cls=CliGroup, no_args_is_help=True, help="Network segmentation policy: zones and flow rules."
)
FileArg = Annotated[Path, typer.Argument(help="A policy as YAML.", exists=True, dir_okay=False)]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read it as UTF-8 text: {exc}")


def _issues(checked: PolicyCheck, json_output: bool) -> None:
    if json_output:
        emit_json({"valid": not checked.errors,
                   "issues": [vars(i) for i in checked.issues]})  # fmt: skip
        return
    for issue in checked.issues:
        style = "red" if issue.level == "error" else "yellow"
        console(stderr=True).print(f"{issue.level}: {issue.where}: {issue.message}", style=style,
                                   markup=False, highlight=False)  # fmt: skip


@segmentation_app.command("show")
def show(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The policy in force (the city's saved one, or the default): zones and rules in order."""
    from civicshield import telemetry

    current = telemetry.current_policy(state(ctx).settings())
    policy = current.check.policy
    if json_output:
        emit_json({"source": current.source, "saved_at": current.saved_at, "text": current.text,
                   "issues": [vars(i) for i in current.check.issues]})  # fmt: skip
        return
    if policy is None:
        _issues(current.check, False)
        fail("the saved policy does not parse; fix it with `civicshield segmentation apply`")
    typer.echo(f"{policy.name} {policy.version} ({current.source})")
    print_table(["zone", "name", "networks"],
                ([z.id, z.name, " ".join(z.cidrs)] for z in policy.zones))  # fmt: skip
    print_table(
        ["#", "rule", "from", "to", "protocols", "ports", "action", "reason"],
        (
            [
                i,
                r.id,
                ",".join(r.from_zones) or "any",
                ",".join(r.to_zones) or "any",
                ",".join(r.protocols) or "any",
                ",".join(r.ports) or "any",
                r.action,
                r.reason,
            ]
            for i, r in enumerate(policy.rules, start=1)
        ),
        caption=f"otherwise between zones: {policy.default}; within a zone: {policy.intra_zone}",
    )


@segmentation_app.command("check")
def check(path: FileArg, json_output: JsonOption = False) -> None:
    """Check a policy file without saving it (exit 1 on errors; warnings are printed)."""
    from civicshield import telemetry

    checked = telemetry.check_policy_text(_read(path))
    _issues(checked, json_output)
    if checked.errors:
        raise typer.Exit(1)
    if not json_output:
        success(f"{path}: no errors ({len(checked.issues)} warning(s))")


@segmentation_app.command("apply")
def apply(ctx: typer.Context, path: FileArg, json_output: JsonOption = False) -> None:
    """Save a policy file as the city's policy (refused, nothing saved, while it has errors)."""
    from civicshield import telemetry

    text = _read(path)
    checked = telemetry.check_policy_text(text)
    if checked.errors:
        _issues(checked, json_output)
        fail(f"{path}: {len(checked.errors)} error(s); nothing was saved")
    rt = state(ctx).runtime()
    with rt.session() as session:
        saved = telemetry.save_policy(session, rt.settings, text, actor=cli_actor(), clock=rt.clock)
    if json_output:
        emit_json({"source": saved.source, "saved_at": saved.saved_at,
                   "issues": [vars(i) for i in saved.check.issues]})  # fmt: skip
        return
    _issues(saved.check, False)
    success("saved: continuous detection uses it from its next batch")


@segmentation_app.command("reset")
def reset(ctx: typer.Context) -> None:
    """Go back to CivicShield's default policy."""
    from civicshield import telemetry

    rt = state(ctx).runtime()
    with rt.session() as session:
        telemetry.reset_policy(session, rt.settings, actor=cli_actor(), clock=rt.clock)
    success("the default segmentation policy is in force")


@segmentation_app.command("preview")
def preview(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option("--file", exists=True, dir_okay=False, help="A draft (default: in force)."),
    ] = None,
    days: Annotated[int, typer.Option(min=1, max=90, help="Over the last N days.")] = 7,
    json_output: JsonOption = False,
) -> None:
    """What a policy would have flagged over the stored flows (Zeek conn, NetFlow, Suricata)."""
    from civicshield import telemetry
    from civicshield.core.clock import SystemClock

    settings = state(ctx).settings()
    text = _read(path) if path else telemetry.current_policy(settings).text
    checked = telemetry.check_policy_text(text)
    if checked.policy is None or checked.errors:
        _issues(checked, json_output)
        fail("the policy has errors; fix them to preview it")
    found = telemetry.preview_policy(settings, checked.policy, now=SystemClock().now(), days=days)
    if json_output:
        emit_json(found.to_dict())
        return
    print_table(
        ["rule", "severity", "flows", "sources", "reason"],
        ([r["rule"], r["severity"], r["flows"], r["sources"], r["reason"]] for r in found.by_rule),
        caption=f"{found.denied} of {found.flows} flows since {found.since:%Y-%m-%d %H:%M} denied",
    )
