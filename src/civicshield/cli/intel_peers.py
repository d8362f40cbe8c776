"""`civicshield intel peer add|list|show|probe|remove`, `intel probe URL`, `intel subscribe
PEER COLLECTION_URL` and `intel pull [SUBSCRIPTION_ID]`: peer cities' TAXII servers, our
subscriptions to their collections and pulling them. Secrets are read from standard input,
never from the command line (it is visible to other users and kept in shell history)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from civicshield.cli._common import (
    JsonOption,
    cli_actor,
    emit_json,
    fail,
    fmt_time,
    lazy_module,
    print_table,
    state,
    success,
)

if TYPE_CHECKING:
    from civicshield.intel.peers import ProbeResult, PullResult, SubscriptionRead

peers = lazy_module("civicshield.intel.peers")

__all__ = ["register"]

peer_app = typer.Typer(
    help="Peer cities' TAXII servers: add, list, show, probe, remove.", no_args_is_help=True
)

UserOption = Annotated[str, typer.Option("--user", help="User name for HTTP Basic.")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input.")
]
TokenStdin = Annotated[
    bool, typer.Option("--token-stdin", help="Read an API token from standard input.")
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app` (the `intel` group)."""
    app.add_typer(peer_app, name="peer")
    app.command("probe")(probe_command)
    app.command("subscribe")(subscribe_command)
    app.command("pull")(pull_command)


def _auth(user: str, password_stdin: bool, token_stdin: bool) -> tuple[str, str, str]:
    """(auth kind, username, secret) from the options; the secret from standard input."""
    if password_stdin and token_stdin:
        fail("give --password-stdin or --token-stdin, not both")
    if password_stdin and not user:
        fail("--password-stdin needs --user")
    if not (password_stdin or token_stdin):
        return "none", "", ""
    secret = sys.stdin.readline().rstrip("\n")
    if not secret:
        fail("standard input held no secret")
    return ("basic", user, secret) if password_stdin else ("token", "", secret)


def _print_probe(result: ProbeResult) -> None:
    typer.echo(f"{result.url}: {result.title}")
    for root in result.roots:
        typer.echo(f"API root {root.url} {root.title}".rstrip())
        if root.error:
            typer.echo(f"  error: {root.error}")
            continue
        print_table(
            ("collection", "title", "read", "write"),
            ((c.id, c.title, c.can_read, c.can_write) for c in root.collections),
        )


@peer_app.command("add")
def peer_add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the peer (unique).")],
    url: Annotated[str, typer.Argument(help="The peer's TAXII discovery URL.")],
    city: Annotated[str, typer.Option(help="The peer's city.")] = "",
    user: UserOption = "",
    password_stdin: PasswordStdin = False,
    token_stdin: TokenStdin = False,
    json_output: JsonOption = False,
) -> None:
    """Add a peer; its password or token is read from standard input and stored encrypted."""
    kind, username, secret = _auth(user, password_stdin, token_stdin)
    rt = state(ctx).runtime()
    data = peers.PeerCreate(
        name=name, city=city, discovery_url=url, auth=kind, username=username, secret=secret
    )
    with rt.session() as session:
        peer = peers.add_peer(
            session, data, settings=rt.settings, actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json(peer)
        return
    success(f"peer {peer.id} {peer.name} added ({peer.discovery_url}, auth {peer.auth})")


@peer_app.command("list")
def peer_list_command(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List peers with their approval and last probe."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        found = peers.list_peers(session)
    if json_output:
        emit_json(found)
        return
    print_table(
        ("id", "name", "city", "discovery URL", "auth", "approved", "last probe", "error"),
        (
            (
                p.id,
                p.name,
                p.city,
                p.discovery_url,
                p.auth,
                fmt_time(p.approved_at),
                p.last_probe.get("at") or p.last_probe.get("failed_at") or "—",
                p.last_error,
            )
            for p in found
        ),
    )


@peer_app.command("show")
def peer_show_command(
    ctx: typer.Context,
    peer: Annotated[str, typer.Argument(help="The peer's id or name.")],
    json_output: JsonOption = False,
) -> None:
    """Show a peer, its last probe and its subscriptions (never its secret)."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        detail = peers.get_peer(session, peers.find_peer(session, peer).id)
    if json_output:
        emit_json(detail)
        return
    for key in ("id", "name", "city", "discovery_url", "auth", "username", "has_secret"):
        typer.echo(f"{key}: {getattr(detail, key)}")
    typer.echo(f"approved: {fmt_time(detail.approved_at)} {detail.approved_by or ''}".rstrip())
    if detail.last_error:
        typer.echo(f"last error: {detail.last_error}")
    _print_subscriptions(detail.subscriptions)


def _print_subscriptions(subs: list[SubscriptionRead]) -> None:
    print_table(
        ("id", "collection URL", "pull", "multi-city", "last pull", "counts", "error"),
        (
            (
                s.id,
                s.collection_url,
                s.pull,
                s.multi_city,
                fmt_time(s.last_pull_at),
                s.counts,
                s.last_error,
            )
            for s in subs
        ),
        title="subscriptions",
    )


@peer_app.command("probe")
def peer_probe_command(
    ctx: typer.Context,
    peer: Annotated[str, typer.Argument(help="The peer's id or name.")],
    json_output: JsonOption = False,
) -> None:
    """Probe a stored peer with its stored credentials and record the result on it."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        found = peers.find_peer(session, peer)
        probed = peers.probe_peer(session, found.id, settings=rt.settings, clock=rt.clock)
    if json_output:
        emit_json(probed)
    elif not probed.last_error:
        success(f"peer {probed.name} probed")
        for root in probed.last_probe.get("roots", []):
            for col in root.get("collections", []):
                typer.echo(
                    f"{root['url']}collections/{col['id']}/  {col['title']}  "
                    f"read={col['can_read']} write={col['can_write']}"
                )
    if probed.last_error:
        fail(probed.last_error)


@peer_app.command("remove")
def peer_remove_command(
    ctx: typer.Context, peer: Annotated[str, typer.Argument(help="The peer's id or name.")]
) -> None:
    """Remove a peer and its subscriptions (what was pulled from it stays)."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        found = peers.find_peer(session, peer)
        peers.remove_peer(session, found.id, actor=cli_actor(), clock=rt.clock)
    success(f"peer {found.name} removed")


def probe_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="A TAXII 2.1 discovery URL.")],
    user: UserOption = "",
    password_stdin: PasswordStdin = False,
    token_stdin: TokenStdin = False,
    json_output: JsonOption = False,
) -> None:
    """Discover a TAXII 2.1 server: its API roots, collections and our permissions."""
    kind, username, secret = _auth(user, password_stdin, token_stdin)
    settings = state(ctx).settings()
    result = peers.probe(url, peers.PeerAuth(kind, username, secret), settings=settings)
    if json_output:
        emit_json(result.as_dict())
        return
    _print_probe(result)


def subscribe_command(
    ctx: typer.Context,
    peer: Annotated[str, typer.Argument(help="The peer's id or name.")],
    collection_url: Annotated[
        str, typer.Argument(help="The collection's URL: <API root>/collections/<id>/.")
    ],
    pull: Annotated[bool, typer.Option(help="Pull it on schedule.")] = True,
    multi_city: Annotated[
        bool, typer.Option(help="Shared with several cities (limits what we publish).")
    ] = True,
    json_output: JsonOption = False,
) -> None:
    """Subscribe to a peer's collection (checked by a probe first)."""
    root, collection_id = peers.split_collection_url(collection_url)
    rt = state(ctx).runtime()
    with rt.session() as session:
        found = peers.find_peer(session, peer)
        data = peers.SubscriptionCreate(
            peer_id=found.id, api_root_url=root, collection_id=collection_id,
            multi_city=multi_city, pull=pull,
        )  # fmt: skip
        sub = peers.subscribe(
            session, data, settings=rt.settings, actor=cli_actor(), clock=rt.clock
        )
    if json_output:
        emit_json(sub)
        return
    success(
        f"subscription {sub.id}: {sub.collection_url} of {sub.peer_name} "
        f"(read={sub.can_read} write={sub.can_write})"
    )


def _print_pull(result: PullResult) -> None:
    line = (
        f"subscription {result.subscription_id}: {result.pages} pages, {result.read} read, "
        f"{result.new} new, {result.new_versions} new versions, {result.unchanged} unchanged, "
        f"{len(result.refused)} refused; added_after {result.added_after or '—'}"
    )
    if result.ok:
        success(line)
    else:
        typer.echo(f"{line}\nerror: {result.error}", err=True)
    for refusal in result.refused:
        typer.echo(f"refused {refusal['path']} {refusal['stix_id']}: {refusal['reason']}")


def pull_command(
    ctx: typer.Context,
    subscription_id: Annotated[
        int | None, typer.Argument(help="One subscription (default: every `pull` one).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Pull subscribed collections now: what was added since the last pull."""
    rt = state(ctx).runtime()
    with rt.session() as session:
        ids = (
            [subscription_id]
            if subscription_id is not None
            else [s.id for s in peers.list_subscriptions(session) if s.pull]
        )
    results = []
    for sub_id in ids:
        with rt.session() as session:  # one commit per subscription
            results.append(
                peers.pull_subscription(
                    session, sub_id, settings=rt.settings, actor=cli_actor(), clock=rt.clock
                )
            )
    if json_output:
        emit_json(results)
    else:
        if not results:
            typer.echo("no subscription to pull")
        for result in results:
            _print_pull(result)
    if any(not r.ok for r in results):
        raise typer.Exit(1)
