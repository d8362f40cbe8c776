"""`civicshield intel publish|push|publications|policy`: TLP-safe publishing from the command line.
`publish` prepares (runs the sharing policy and prints the preview: every change and every
refused object); with `--yes` it also sends when no approval is needed. The command line runs
with the city's own authority (like `intel import`); the four-eyes rule still holds: the
person who approves must not be the one who prepared (`$USER` names the person)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fail,
    lazy_module,
    print_table,
    state,
    success,
)

if TYPE_CHECKING:
    from civicshield.intel.sharing import PublicationRead

sharing = lazy_module("civicshield.intel.sharing")
intel = lazy_module("civicshield.intel")

__all__ = ["register"]

publications_app = typer.Typer(
    help="The publish queue: list, show, approve, reject, send.", no_args_is_help=True
)
policy_app = typer.Typer(help="The sharing policy.", no_args_is_help=True)
IdArg = Annotated[int, typer.Argument(help="The publication's number.")]


def _preview(pub: PublicationRead) -> None:
    typer.echo(
        f"publication {pub.id} to {pub.target_label}: {pub.status}, {pub.object_count} objects "
        f"to share, {len(pub.changes)} changes, {len(pub.refusals)} refused"
    )
    if pub.changes:
        rows = [(c.object_id, c.property, c.action, c.rule, c.detail) for c in pub.changes]
        print_table(("object", "property", "action", "rule", "detail"), rows, title="Changes")
    if pub.refusals:
        refused = [(r.object_id, r.type, r.rule, r.reason) for r in pub.refusals]
        print_table(("object", "type", "rule", "reason"), refused, title="Refused")
    if pub.error:
        typer.echo(f"error: {pub.error}")


def _show(pub: PublicationRead, json_output: bool) -> None:
    if json_output:
        emit_json(pub)
    else:
        _preview(pub)


def _send(
    ctx: typer.Context,
    object_ids: list[str],
    target_collection: str | None,
    target_subscription: int | None,
    *,
    yes: bool,
    json_output: bool,
) -> None:
    rt = state(ctx).runtime()
    target = sharing.PublicationTarget(
        collection_uuid=target_collection, subscription_id=target_subscription
    )
    with rt.session() as session:
        pub = sharing.prepare(
            session, object_ids, target, actor=cli_actor(), settings=rt.settings,
            now=rt.clock.now(),
        )  # fmt: skip
        if yes and pub.status == "draft":
            pub = sharing.publish(
                session, pub.id, actor=cli_actor(), settings=rt.settings, now=rt.clock.now()
            )
    _show(pub, json_output)
    if pub.status == "refused":
        fail(f"publication {pub.id} refused: the sharing policy held back every object")
    if yes and pub.status == "awaiting_approval":
        fail(
            f"publication {pub.id} waits for approval (first publication to this peer): "
            f"another person runs `civicshield intel publications approve {pub.id}`"
        )
    if pub.status == "failed":
        fail(f"publication {pub.id} failed: {pub.error}")
    if not yes and not json_output:
        typer.echo(f"prepared only; send with `civicshield intel publications send {pub.id}`")


def push_command(
    ctx: typer.Context,
    subscription: Annotated[int, typer.Argument(help="The peer subscription (its number).")],
    object_ids: Annotated[
        list[str] | None, typer.Argument(help="STIX ids of indicators or other objects.")
    ] = None,
    sightings: Annotated[
        bool, typer.Option("--sightings", help="Also our sightings recorded since --since.")
    ] = False,
    since: Annotated[str, typer.Option(help="With --sightings: 7d, 12h or an ISO time.")] = "7d",
    yes: Annotated[bool, typer.Option("--yes", help="Send at once when allowed.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Push objects (and our recent sightings) to a peer's collection, through the sharing
    policy: the preview is printed; with --yes it is sent when no approval is needed."""
    from civicshield.detect.eventstore import parse_since

    ids = list(object_ids or [])
    if sightings:
        rt = state(ctx).runtime()
        start = parse_since(since, now=rt.clock.now())
        with rt.session() as session:
            ids += [i for i in intel.our_sightings_since(session, start) if i not in ids]
    if not ids:
        fail("nothing to push: give object ids or --sightings (none recorded since " + since + ")")
    _send(ctx, ids, None, subscription, yes=yes, json_output=json_output)


def publish_command(
    ctx: typer.Context,
    object_ids: Annotated[list[str], typer.Argument(help="STIX ids of the objects to share.")],
    collection: Annotated[
        str | None, typer.Option("--collection", help="One of our TAXII collections (uuid).")
    ] = None,
    subscription: Annotated[
        int | None, typer.Option("--subscription", help="A peer subscription (its number).")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Send at once when allowed.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Prepare a publication and print its preview; with --yes also send it."""
    if (collection is None) == (subscription is None):
        fail("give exactly one of --collection UUID or --subscription ID")
    _send(ctx, object_ids, collection, subscription, yes=yes, json_output=json_output)


@publications_app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The publish queue, newest first."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        items, total = sharing.list_publications(session, status=status, limit=1000)
    if json_output:
        emit_json({"items": items, "total": total})
        return
    rows = [
        (p.id, p.status, p.target_label, p.object_count, len(p.changes), len(p.refusals),
         p.created_by, p.created_at)
        for p in items
    ]  # fmt: skip
    columns = ("id", "status", "target", "objects", "changes", "refused", "by", "at")
    print_table(columns, rows, title=f"Publications ({total})")


@publications_app.command("show")
def show_command(
    ctx: typer.Context, publication_id: IdArg, json_output: JsonOption = False
) -> None:
    """A publication's preview: every change and every refused object."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        _show(sharing.get_publication(session, publication_id), json_output)


@publications_app.command("approve")
def approve_command(
    ctx: typer.Context, publication_id: IdArg, json_output: JsonOption = False
) -> None:
    """Approve the first publication to a new peer (someone other than who prepared it)."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        pub = sharing.approve(session, publication_id, actor=cli_actor(), now=rt.clock.now())
    if json_output:
        emit_json(pub)
    else:
        success(f"publication {pub.id} approved")


@publications_app.command("reject")
def reject_command(
    ctx: typer.Context,
    publication_id: IdArg,
    reason: Annotated[str, typer.Option(help="Why (kept with the publication).")] = "",
    json_output: JsonOption = False,
) -> None:
    """Reject a queued publication."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        pub = sharing.reject(
            session, publication_id, actor=cli_actor(), now=rt.clock.now(), reason=reason
        )
    if json_output:
        emit_json(pub)
    else:
        success(f"publication {pub.id} rejected")


@publications_app.command("send")
def send_command(
    ctx: typer.Context, publication_id: IdArg, json_output: JsonOption = False
) -> None:
    """Deliver a prepared (and, for a new peer, approved) publication."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        pub = sharing.publish(
            session, publication_id, actor=cli_actor(), settings=rt.settings, now=rt.clock.now()
        )
    _show(pub, json_output)
    if pub.status == "failed":
        fail(f"publication {pub.id} failed: {pub.error}")
    if not json_output:
        success(f"publication {pub.id} published")


@policy_app.command("show")
def policy_show_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """The sharing policy in effect (default plus <data_dir>/sharing.yaml)."""
    data = sharing.load_policy(state(ctx).settings()).as_dict()
    if json_output:
        emit_json(data)
        return
    for key, value in data.items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        typer.echo(f"{key}: {shown if shown != '' else '—'}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app` (the `intel` group)."""
    app.command("publish")(publish_command)
    app.command("push")(push_command)
    app.add_typer(publications_app, name="publications")
    app.add_typer(policy_app, name="policy")
