"""`civicshield vulns match|findings|show|status|import|cve|policy`: the findings side of
vulnerabilities (registered on `vulns_app` in `cli/vulns.py`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    console,
    emit_json,
    fail,
    print_table,
    state,
    success,
)
from civicshield.core import Sector

if TYPE_CHECKING:
    from civicshield.vulns import FindingDetail

__all__ = ["register"]


def _match(
    ctx: typer.Context,
    asset: Annotated[
        list[int] | None, typer.Option("--asset", help="Only this asset (repeatable).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Match active assets (their CPEs and their software's) against the stored CVEs: new
    findings, re-opened ones, and fixed ones whose version moved past the range."""
    from civicshield import vulns

    rt = state(ctx).runtime()
    with rt.session() as session:
        summary = vulns.match_inventory(session, actor=cli_actor(), clock=rt.clock, asset_ids=asset)
    if json_output:
        emit_json(summary.model_dump())
        return
    success(
        f"{summary.assets} assets ({summary.cpes} CPEs) against {summary.cves} CVEs: "
        f"{summary.created} new, {summary.reopened} re-opened, {summary.fixed} fixed, "
        f"{summary.still_open} still reported ({summary.seconds} s)"
    )


def _findings(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="open, in_progress, mitigated, …")
    ] = None,
    all_statuses: Annotated[
        bool, typer.Option("--all", help="Closed findings too (default: only open ones).")
    ] = False,
    decision: Annotated[
        list[str] | None, typer.Option("--decision", help="act, attend, track_star, track.")
    ] = None,
    sector: Annotated[list[Sector] | None, typer.Option("--sector", help="Asset sector.")] = None,
    asset: Annotated[int | None, typer.Option("--asset", help="Only this asset.")] = None,
    cve: Annotated[str | None, typer.Option("--cve", help="Only this CVE.")] = None,
    kev: Annotated[bool | None, typer.Option("--kev/--no-kev", help="In CISA KEV.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10000)] = 50,
    json_output: JsonOption = False,
) -> None:
    """Findings, most urgent first (decision, KEV, EPSS, CVSS, criticality, due date)."""
    from civicshield import vulns

    try:
        filters = vulns.FindingFilter(
            status=[vulns.FindingStatus.parse(s) for s in status or []],
            open_only=not all_statuses and not status,
            decision=[vulns.Decision.parse(d) for d in decision or []],
            sector=sector or [],
            asset_id=asset,
            cve_id=cve,
            kev=kev,
            overdue=True if overdue else None,
        )
    except ValueError as exc:
        fail(str(exc))
    rt = state(ctx).runtime()
    with rt.session() as session:
        page = vulns.list_findings(session, filters, clock=rt.clock, limit=limit)
    if json_output:
        emit_json(page.model_dump(mode="json"))
        return
    rows = [
        (
            f.id,
            vulns.Decision(f.decision).label if f.decision else "-",
            f.cve_id,
            f.asset_name,
            f.sector,
            f.component or "-",
            f"{f.severity or '-'} {f.cvss_score if f.cvss_score is not None else ''}".strip(),
            "KEV" if f.kev else "",
            str(f.due_date or "-") + (" overdue" if f.overdue else ""),
            f.status.label,
        )
        for f in page.items
    ]
    print_table(
        ["id", "decision", "CVE", "asset", "sector", "component", "severity", "KEV", "due",
         "status"],
        rows,
    )  # fmt: skip
    counts = ", ".join(f"{k} {v}" for k, v in page.counts.items())
    console().print(f"{len(page.items)} of {page.total} shown; open by decision: {counts}")


def _print_detail(f: FindingDetail) -> None:
    out = console()
    out.print(f"{f.cve_id} on {f.asset_name} (asset {f.asset_id}, {f.sector})")
    out.print(f"component: {f.component or '(the asset itself)'}; sources: {', '.join(f.sources)}")
    out.print(f"status: {f.status.label}" + (f" — {f.status_reason}" if f.status_reason else ""))
    if f.accepted_until:
        out.print(f"accepted until {f.accepted_until} (approved by {f.approved_by})")
    decision = f.decision.label if f.decision else "-"
    out.print(f"decision: {decision}; due {f.due_date or '-'}{' (overdue)' if f.overdue else ''}")
    for line in f.explanation:
        out.print(f"  • {line}")
    for source, evidence in f.evidence.items():
        why = evidence.get("why") or evidence.get("title") or evidence.get("state") or ""
        out.print(f"evidence [{source}]: {why}")
    if f.history:
        print_table(
            ["at", "who", "field", "old", "new", "reason"],
            [(h.at.isoformat(), h.actor, h.field, h.old, h.new, h.reason) for h in f.history],
        )


def _show(ctx: typer.Context, finding_id: int, json_output: JsonOption = False) -> None:
    """One finding: decision and its explanation, evidence per source, CVE data, history."""
    from civicshield import vulns

    rt = state(ctx).runtime()
    with rt.session() as session:
        detail = vulns.get_finding(session, finding_id, clock=rt.clock)
    if json_output:
        emit_json(detail.model_dump(mode="json"))
    else:
        _print_detail(detail)


def _status(
    ctx: typer.Context,
    finding_ids: Annotated[list[int], typer.Argument(help="Finding ids.")],
    to: Annotated[
        str,
        typer.Option(
            "--set",
            help="open, in_progress, mitigated, accepted, false_positive or fixed.",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (required for accepted, FP).")] = "",
    until: Annotated[
        str | None, typer.Option("--until", help="Accepted risk: expiry date YYYY-MM-DD.")
    ] = None,
    approver: Annotated[
        str | None, typer.Option("--approver", help="Accepted risk: who approved it.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Change the status of one or more findings (all or nothing); kept in each history."""
    from civicshield import vulns

    try:
        change = vulns.StatusChange(
            status=vulns.FindingStatus.parse(to),
            reason=reason,
            accepted_until=date.fromisoformat(until) if until else None,
            approver=approver,
        )
    except ValueError as exc:
        fail(str(exc).splitlines()[0])
    rt = state(ctx).runtime()
    with rt.session() as session:
        changed = vulns.change_statuses(
            session, finding_ids, change, actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json({"changed": changed})
    else:
        success(f"{changed} of {len(finding_ids)} finding(s) changed to {change.status.label}")


def _import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    fmt: Annotated[
        str | None, typer.Option("--format", help="Skip sniffing: grype, trivy, openvas-xml, …")
    ] = None,
    asset: Annotated[
        int | None, typer.Option("--asset", help="The asset the results are about.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Import scanner results (Grype, Trivy, OpenVAS XML/CSV, Wazuh, Nmap vulners, CycloneDX
    VEX) into findings per (asset, CVE). Results whose host is not in the inventory are listed
    with their place; the rest imports. Importing the same file again changes nothing."""
    from civicshield import vulns

    report = vulns.parse_scan(file.read_bytes(), source=file.name, fmt=fmt)
    rt = state(ctx).runtime()
    with rt.session() as session:
        summary = vulns.import_scan(
            session, report, actor=cli_actor(), clock=rt.clock, target_asset_id=asset
        )
    if json_output:
        emit_json(summary.model_dump())
        return
    for problem in summary.problems[:20]:
        console(stderr=True).print(f"not imported: {problem['location']}: {problem['message']}")
    success(
        f"{file.name} ({summary.tool}, {summary.format}): {summary.read} results, "
        f"{summary.created} new, {summary.updated} updated, {summary.unchanged} unchanged, "
        f"{summary.false_positive} marked false positive, {len(summary.problems)} not imported"
    )


def _cve(ctx: typer.Context, cve_id: str, json_output: JsonOption = False) -> None:
    """What the synced feeds say about one CVE (CVSS by source, SSVC, KEV, EPSS)."""
    from civicshield import vulns

    rt = state(ctx).runtime()
    with rt.session() as session:
        cve = vulns.get_cve(session, cve_id)
    if json_output:
        emit_json(cve.model_dump(mode="json"))
        return
    out = console()
    out.print(f"{cve.cve_id} ({', '.join(cve.sources) or 'KEV/EPSS only'})")
    out.print(cve.description or "(no description)")
    for m in cve.cvss:
        out.print(f"CVSS {m['version']} {m.get('base_score')} {m['vector']} ({m['source']})")
    if cve.ssvc:
        out.print(f"SSVC: {cve.ssvc}")
    if cve.kev_date_added:
        out.print(f"CISA KEV since {cve.kev_date_added}, due {cve.kev_due_date}")
    if cve.epss is not None:
        out.print(f"EPSS {cve.epss:.5f} (percentile {cve.epss_percentile})")


def _policy(
    ctx: typer.Context,
    set_from: Annotated[
        Path | None,
        typer.Option("--set", exists=True, dir_okay=False, help="Save this JSON as a new version."),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why the policy changes.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Show the prioritisation policy in force (JSON), or save a new version from a file and
    re-assess every finding."""
    from civicshield import vulns

    rt = state(ctx).runtime()
    with rt.session() as session:
        if set_from is None:
            current = vulns.list_policies(session, clock=rt.clock)[0]
            emit_json(current.model_dump(mode="json"))
            return
        try:
            data: Any = json.loads(set_from.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            fail(f"{set_from}: not JSON ({exc})")
        if isinstance(data, dict) and "data" in data and "version" in data:
            data = data["data"]  # the output of `vulns policy` itself
        saved = vulns.save_policy(session, data, note=note, actor=cli_actor(), clock=rt.clock)
        changed = vulns.reassess(session, clock=rt.clock, actor=cli_actor())
    if json_output:
        emit_json({"version": saved.version, "decisions_changed": changed})
    else:
        success(f"policy version {saved.version} saved; {changed} finding(s) changed decision")


def register(app: typer.Typer) -> None:
    app.command("match")(_match)
    app.command("findings")(_findings)
    app.command("show")(_show)
    app.command("status")(_status)
    app.command("import")(_import)
    app.command("cve")(_cve)
    app.command("policy")(_policy)
