"""`civicshield detect PATH…`: run Sigma rules over event files: JSONL (plain or gzip) and EVTX.

Rules come from `--rules DIR` (repeatable), else the installed SigmaHQ pack, else
`CIVICSHIELD_FEEDS_PATH/sigma/rules` (see `civicshield rules`). Matches stream to stdout or
`--output`; problems (unsupported rules, bad lines, unreadable files) and the summary go to stderr.

The compiled rule set is cached under `<data_dir>/cache/compiled/<key>.bin`, keyed by the rule
files' bytes and the engine/mapping versions (`civicshield.detect.cache`); a warm run parses no
YAML. The selection options (`--folder`, `--status`, `--tag`, `--min-level`, …) are applied after
loading, so one cache serves every selection. `--no-cache` rebuilds (and rewrites) it.

Correlation rules (`civicshield.detect.engine.correlation`) run over the matches of their base
rules from every batch and file, once at the end. The cache keeps no pySigma objects, so on a
warm run a rule set holding correlation rules re-parses the files that hold them (and, for a
reference by rule `name` that is not an id, the files that mention that name): pySigma is then
imported and those few files parsed (measured: 0.35 s more on a warm run over
`rules/windows`). A rule set without correlation rules pays nothing. A base rule of a selected
correlation runs even when the selection leaves it out (its own matches are then not printed),
and `generate: false` (the default) keeps a base rule's own matches out of the output, as the
Sigma correlation specification says (*Generate*).

`--logsource PRODUCT[/SERVICE][:CATEGORY]` declares the log source of inputs that do not say it
themselves: it adds the `logsource.product` / `.service` / `.category` columns the `tagged`
(and `combined`) mapping routes on to every batch, keeping an event's own value where it has one.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import orjson
import typer
from rich.text import Text

from civicshield.cli._common import console, fail
from civicshield.cli._detect_output import (
    CSV_COLUMNS,
    Writer,
    print_summary,
    progress_bar,
    read_position,
)
from civicshield.cli._selection import (
    ExcludeFolderOption,
    FolderOption,
    IncludeDeprecatedOption,
    MinLevelOption,
    StatusOption,
    TagOption,
    check_mapping,
    mapping_option,
    selection_from_options,
)

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.progress import Progress

    from civicshield.detect import RuleInfo, RuleSelection
    from civicshield.detect.engine import CompiledCorrelation, CompiledRuleSet, Unsupported
    from civicshield.detect.readers import JsonlBatch

__all__ = ["LOGSOURCE_FIELDS", "detect", "parse_logsource"]

FORMATS = ("table", "jsonl", "csv")
# --retro: `source` is the dataset, `line` the event's line in the file it was ingested from
RETRO_CSV_COLUMNS = (*CSV_COLUMNS, "@timestamp")
# The event's own time, for correlation windows: flat Windows JSON and EVTX (`SystemTime` of
# `TimeCreated`), then Winlogbeat/ECS (`@timestamp`); the first present one is used.
TIME_FIELDS = ("SystemTime", "@timestamp")
_EVTX_MAGIC = b"ElfFile\x00"
_READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError)
# `civicshield.detect.engine.mappings.LOGSOURCE_FIELDS`, spelled out: that module imports
# pySigma, which a warm run must not (a test keeps the two equal).
LOGSOURCE_FIELDS = ("logsource.product", "logsource.service", "logsource.category")
_ROUTES_ON_TAGS = ("tagged", "combined")


def detect(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Event files: JSON lines (plain or .gz) or .evtx (none with --retro).",
            show_default=False,
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules",
            help="Rules folder or file (repeatable); default: the pack installed by `rules update`,"
            " else CIVICSHIELD_FEEDS_PATH/sigma/rules.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="Match output: table, jsonl or csv.")
    ] = "table",
    min_level: MinLevelOption = None,
    status: StatusOption = None,
    tag: TagOption = None,
    folder: FolderOption = None,
    exclude_folder: ExcludeFolderOption = None,
    include_deprecated: IncludeDeprecatedOption = False,
    mapping: Annotated[str | None, mapping_option("windows; combined with --retro")] = None,
    logsource: Annotated[
        str | None,
        typer.Option(
            "--logsource",
            metavar="PRODUCT[/SERVICE][:CATEGORY]",
            help="Log source of the inputs for the tagged/combined mappings, e.g. aws/cloudtrail,"
            " okta/okta or :proxy; an event's own logsource.* values win.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Write matches to this file instead of stdout."),
    ] = None,
    no_cache: Annotated[
        bool,
        typer.Option("--no-cache", help="Rebuild the compiled rule cache (parse every rule)."),
    ] = False,
    retro: Annotated[
        bool,
        typer.Option("--retro", help="Run the rules over the event store instead of files."),
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="With --retro: 30d, 12h, 45m or an ISO date/time."),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="With --retro: same forms as --since.")
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="With --retro: only this dataset (repeatable)."),
    ] = None,
) -> None:
    """Run the enabled Sigma rules over event files (or, with --retro, over the stored
    events) and print every match."""
    if output_format not in FORMATS:
        fail(f"unknown format {output_format!r} (choose from {', '.join(FORMATS)})", code=2)
    if retro and paths:
        fail("--retro reads the event store: give no PATH (use --dataset to narrow)", code=2)
    if not retro and not paths:
        fail("give event files (PATH…), or --retro to run over the event store", code=2)
    if not retro and (since or until or dataset):
        fail("--since, --until and --dataset need --retro", code=2)
    mapping = check_mapping(mapping or ("combined" if retro else "windows"))
    tags = parse_logsource(logsource) if logsource is not None else {}
    selection = selection_from_options(
        folders=folder,
        exclude_folders=exclude_folder,
        statuses=status,
        tags=tag,
        min_level=min_level,
        include_deprecated=include_deprecated,
    )
    err = console(stderr=True)
    if tags and mapping not in _ROUTES_ON_TAGS:
        note = f"note: --logsource has no effect with --mapping {mapping} (only tagged, combined)"
        err.print(Text(note, style="yellow"))
    loaded = _compiled_rules(ctx, rules, mapping, use_cache=not no_cache, err=err)
    plan = _plan(loaded, selection, mapping)
    _warn_unsupported(plan.unsupported, err)
    corr_note = f" and {len(plan.correlations)} correlation rules" if plan.correlations else ""
    err.print(Text(f"running {len(plan.output_ids)} rules{corr_note}"))

    try:
        stream: IO[str] = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        fail(f"cannot write matches to {output}: {exc.strerror or exc}")
    if retro:
        run: _Run = _RetroRun(plan, Writer(output_format, stream, RETRO_CSV_COLUMNS), err, tags)
    else:
        run = _Run(plan, Writer(output_format, stream), err, tags)
    try:
        if isinstance(run, _RetroRun):
            run.read_store(ctx, since=since, until=until, datasets=dataset)
        else:
            with progress_bar(err) as progress:
                for path in paths or ():
                    run.read_file(path, progress)
        run.correlate()
        run.writer.close()
    finally:
        if output is not None:
            stream.close()
    print_summary(run.summary, run.events, run.bad_lines)
    if run.unreadable:
        fail(f"{len(run.unreadable)} input file(s) could not be read: {', '.join(run.unreadable)}")


def parse_logsource(text: str) -> dict[str, str]:
    """`PRODUCT[/SERVICE][:CATEGORY]` → {column: value} for the parts given (a usage error for
    an empty or malformed one): `aws/cloudtrail`, `okta`, `:proxy`, `zeek/dns`, `linux:x`."""
    head, _, category = text.partition(":")
    product, _, service = head.partition("/")
    parts = [p.strip() for p in (product, service, category)]
    if not any(parts) or any(c in p for p in parts for c in "/:"):
        fail(
            f"--logsource {text!r}: expected PRODUCT[/SERVICE][:CATEGORY], e.g. aws/cloudtrail",
            code=2,
        )
    return {name: value for name, value in zip(LOGSOURCE_FIELDS, parts, strict=True) if value}


def _stamp(frame: pl.DataFrame, tags: dict[str, str]) -> pl.DataFrame:
    """`frame` with the `--logsource` columns: the event's own value, else the given one."""
    import polars as pl

    if not tags:
        return frame
    return frame.with_columns(
        (
            pl.coalesce(pl.col(name), pl.lit(value, dtype=pl.String))
            if name in frame.columns
            else pl.lit(value, dtype=pl.String)
        ).alias(name)
        for name, value in tags.items()
    )


# -- rules --------------------------------------------------------------------------------------
@dataclass
class _Loaded:
    """Every loaded rule compiled (unselected), and what correlations need beside it."""

    ruleset: CompiledRuleSet
    files: list[Path]
    # every loaded rule with its pySigma object: only on a cold run (None on a cache hit)
    parsed: list[RuleInfo] | None = None


def _compiled_rules(
    ctx: typer.Context, rules: list[Path] | None, mapping: str, *, use_cache: bool, err: Console
) -> _Loaded:
    """Every loaded rule compiled (unselected): from the compiled rule cache when it holds this
    exact rule set, else parsed, compiled and saved. Load problems are printed either way."""
    from civicshield.cli._common import state
    from civicshield.detect import cache
    from civicshield.detect.engine import ENGINE_VERSION, MAPPING_VERSION
    from civicshield.detect.sigma import iter_rule_files, rule_roots

    settings = state(ctx).settings()
    roots = [r.resolve() for r in rule_roots(settings, rules)]
    files = [f for root in roots for f in iter_rule_files(root)]
    key = cache.ruleset_key(
        files,
        engine_version=ENGINE_VERSION,
        mapping_version=f"{MAPPING_VERSION}:{mapping}",
        roots=roots,
        index=cache.index_path(settings.data_dir) if use_cache else None,
    )
    path = cache.cache_path(settings.data_dir, key)
    entry = cache.load_entry(path) if use_cache else None
    parsed: list[RuleInfo] | None = None
    if entry is not None:
        err.print(Text(f"compiled rule cache: hit ({path.name})", style="dim"))
        ruleset, problems = entry.ruleset, entry.problems
    else:
        if use_cache and path.exists():
            err.print(Text(f"note: ignoring unreadable compiled rule cache {path}", style="yellow"))
        from civicshield.detect import load_rules
        from civicshield.detect.engine import compile_rules
        from civicshield.detect.engine.mappings import mapping_named

        report = load_rules(roots)
        ruleset, problems = compile_rules(report.rules, mapping_named(mapping)), report.problems
        parsed = report.rules
        try:
            cache.save(ruleset, path, problems=problems)
            err.print(Text(f"compiled rule cache: saved {path}", style="dim"))
        except (cache.CacheError, OSError) as exc:
            err.print(Text(f"note: compiled rule cache not written: {exc}", style="yellow"))
    for problem in problems:
        err.print(Text(f"warning: rule not loaded: {problem}", style="yellow"))
    return _Loaded(ruleset, files, parsed)


@dataclass
class _Plan:
    """What one run evaluates and prints, after the selection."""

    ruleset: CompiledRuleSet  # the rules evaluated: selected ones and correlations' base rules
    output_ids: set[str]  # rules whose own matches are printed
    unsupported: list[Unsupported]
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    correlated_ids: set[str] = field(default_factory=set)  # base rules of the correlations
    # each event field the correlations read (Sigma name) -> the column holding it (mapped)
    correlation_fields: dict[str, str] = field(default_factory=dict)

    @property
    def fields(self) -> set[str]:
        found = set(self.ruleset.fields) | set(self.correlation_fields.values())
        return found | set(TIME_FIELDS) if self.correlations else found


def _plan(loaded: _Loaded, selection: RuleSelection, mapping: str) -> _Plan:
    from civicshield.detect.correlations import plan_correlations
    from civicshield.detect.engine import CompiledRuleSet

    compiled = loaded.ruleset
    unsupported = [
        u
        for u in compiled.unsupported
        if selection.accepts(u.rule) and u.rule.kind != "correlation"
    ]
    selected = {r.rule.id for r in compiled.rules if selection.accepts(r.rule)}
    corr = plan_correlations(
        compiled,
        accepts=selection.accepts,
        mapping=mapping,
        files=loaded.files,
        parsed=loaded.parsed,
    )
    unsupported += corr.rejected
    bases = set(corr.base_ids)
    return _Plan(
        ruleset=CompiledRuleSet(
            rules=[r for r in compiled.rules if r.rule.id in selected or r.rule.id in bases]
        ),
        output_ids=selected - (bases - corr.generating),
        unsupported=unsupported,
        correlations=list(corr.correlations),
        correlated_ids=bases,
        correlation_fields=dict(corr.fields),
    )


def _warn_unsupported(unsupported: list[Unsupported], err: Console) -> None:
    if not unsupported:
        return
    err.print(Text(f"warning: {len(unsupported)} rules not supported (not run):", style="yellow"))
    reasons = Counter(u.reason for u in unsupported)
    for reason, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        err.print(Text(f"  {count} × {reason}"))
    for item in unsupported:
        err.print(Text(f"  {item}", style="dim"))


# -- events -------------------------------------------------------------------------------------
def _is_evtx(path: Path) -> bool:
    if path.suffix.lower() == ".evtx":
        return True
    with path.open("rb") as handle:  # an .evtx file renamed: its magic says so
        return handle.read(len(_EVTX_MAGIC)) == _EVTX_MAGIC


def _batches(path: Path, fields: set[str], needs_values: bool) -> Iterator[JsonlBatch]:
    from civicshield.detect.readers import read_evtx, read_jsonl

    if _is_evtx(path):
        return read_evtx(path, fields)
    return read_jsonl(path, fields, raw=needs_values)


class _Run:
    """One `detect` run: evaluates batches, writes matches, keeps the correlations' input."""

    def __init__(
        self, plan: _Plan, writer: Writer, err: Console, tags: dict[str, str] | None = None
    ) -> None:
        self.plan = plan
        self.tags = tags or {}
        self.writer = writer
        self.err = err
        self.fields = plan.fields
        self.summary: Counter[tuple[str, str, str]] = Counter()
        self.unreadable: list[str] = []
        self.bad_lines = 0
        self.events = 0
        self.correlated: list[pl.DataFrame] = []  # base-rule matches of every batch and file
        self.meta = {r.rule.id: r.rule for r in plan.ruleset.rules}

    def read_file(self, path: Path, progress: Progress | None) -> None:
        task = None
        if progress is not None:
            total = path.stat().st_size if path.is_file() else None
            task = progress.add_task(path.name, total=total)
        try:
            for batch in _batches(path, self.fields, self.plan.ruleset.needs_values):
                self.batch(path, batch)
                # drop this batch before the reader builds the next: memory stays one batch
                del batch
                if progress is not None and task is not None:
                    position = read_position(path)
                    if position is not None:
                        progress.update(task, completed=position)
        except _READ_ERRORS as exc:
            self.unreadable.append(str(path))
            self.err.print(Text(f"error: cannot read {path}: {exc}", style="bold red"))
        finally:
            if progress is not None and task is not None:
                progress.remove_task(task)

    def batch(self, path: Path, batch: JsonlBatch) -> None:
        from civicshield.detect.engine import evaluate

        for bad in batch.bad_lines:
            self.err.print(Text(f"warning: skipped {bad}", style="yellow"))
        self.bad_lines += len(batch.bad_lines)
        frame = _stamp(batch.frame, self.tags)
        self.events += frame.height
        matches = evaluate(self.plan.ruleset, frame)
        if matches.height == 0:
            return
        lines = frame.get_column("_line").to_list()
        output_ids = self.plan.output_ids
        for row in matches.iter_rows(named=True):
            if row["rule_id"] not in output_ids:
                continue
            record = {
                "rule_id": row["rule_id"],
                "rule_title": row["rule_title"],
                "level": row["level"],
                "author": row["author"],
                "tags": row["tags"],
                "source": str(path),
                "line": lines[row["event_index"]],
            }
            self.writer.write(record)
            self.summary[(row["rule_id"], row["rule_title"], row["level"] or "")] += 1
        if self.plan.correlations:
            self._keep_for_correlation(path, frame, matches)

    def _keep_for_correlation(self, path: Path, frame: pl.DataFrame, matches: pl.DataFrame) -> None:
        """The base-rule matches with what `correlate` reads: event time, key and fields."""
        import polars as pl

        own = matches.filter(pl.col("rule_id").is_in(sorted(self.plan.correlated_ids)))
        if own.height == 0:
            return
        rows = own.get_column("event_index")
        stamps = frame.select(pl.coalesce(TIME_FIELDS).gather(rows)).to_series()
        self.correlated.append(
            frame.select(
                pl.concat_str(
                    pl.lit(f"{path}:"), pl.col("_line").gather(rows).cast(pl.String)
                ).alias("event_key"),
                *(
                    pl.col(column).gather(rows).alias(name)
                    for name, column in self.plan.correlation_fields.items()
                ),
            ).with_columns(
                own.get_column("rule_id"),
                pl.Series("time", [_event_time(t) for t in stamps], dtype=pl.Datetime("us", "UTC")),
            )
        )

    def correlate(self) -> None:
        """Run every correlation once over the base-rule matches of all files; print alerts."""
        if not self.plan.correlations or not self.correlated:
            return
        import polars as pl

        from civicshield.detect.engine import correlate

        matches = pl.concat(self.correlated, how="vertical")
        self.correlated = []
        without_time = matches.get_column("time").null_count()
        if without_time:
            self.err.print(
                Text(
                    f"warning: {without_time} base-rule matches have no event time"
                    f" ({' or '.join(TIME_FIELDS)}) and take no part in correlations",
                    style="yellow",
                )
            )
        for alert in correlate(self.plan.correlations, matches).iter_rows(named=True):
            source, _, line = alert["event_keys"][0].rpartition(":")
            self.writer.write(
                {
                    "rule_id": alert["rule_id"],
                    "rule_title": alert["rule_title"],
                    "level": alert["level"],
                    "author": alert["author"],
                    "tags": alert["tags"],
                    "source": source,
                    "line": int(line),
                    "type": alert["type"],
                    "group": orjson.loads(alert["group"]),
                    "first_time": alert["first_time"],
                    "last_time": alert["last_time"],
                    "count": alert["count"],
                    "event_keys": alert["event_keys"],
                }
            )
            self.summary[(alert["rule_id"], alert["rule_title"], alert["level"] or "")] += 1


def _event_time(text: str | None) -> datetime | None:
    """ISO 8601 event time → aware UTC datetime (a naive one is UTC); None when not a time."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


# -- retro-detection ----------------------------------------------------------------------------
class _RetroRun(_Run):
    """`detect --retro`: the stored events, partition slice by slice
    (`civicshield.detect.retro`); a match's `source` is its dataset, `line` its `_line`."""

    def read_store(
        self,
        ctx: typer.Context,
        *,
        since: str | None,
        until: str | None,
        datasets: list[str] | None,
    ) -> None:
        from civicshield.cli._common import state
        from civicshield.core.errors import Invalid
        from civicshield.detect.eventstore import EventStore, parse_since
        from civicshield.detect.retro import retro_batches

        now = datetime.now(UTC)
        try:
            start = parse_since(since, now=now) if since else None
            end = parse_since(until, now=now) if until else None
        except Invalid as exc:
            fail(f"--since/--until: {exc}", code=2)
        store = EventStore(state(ctx).settings().data_dir / "events")
        extra = sorted(set(self.plan.correlation_fields.values()))
        for batch in retro_batches(
            store, self.plan.ruleset, since=start, until=end, datasets=datasets, columns=extra
        ):
            self.events += batch.events.height
            self._report(batch.dataset, batch.events, batch.matches)
            del batch  # one slice in memory at a time

    def _report(self, dataset: str, events: pl.DataFrame, matches: pl.DataFrame) -> None:
        if matches.height == 0:
            return
        for row in matches.iter_rows(named=True):
            if row["rule_id"] not in self.plan.output_ids:
                continue
            stamp = row["@timestamp"]
            self.writer.write(
                {
                    "rule_id": row["rule_id"],
                    "rule_title": row["rule_title"],
                    "level": row["level"],
                    "author": row["author"],
                    "tags": row["tags"],
                    "source": dataset,
                    "line": row["_line"],
                    "@timestamp": stamp.isoformat() if stamp is not None else None,
                }
            )
            self.summary[(row["rule_id"], row["rule_title"], row["level"] or "")] += 1
        if self.plan.correlations:
            self._keep_stored(dataset, events, matches)

    def _keep_stored(self, dataset: str, events: pl.DataFrame, matches: pl.DataFrame) -> None:
        """Base-rule matches for the correlations, in event time (`@timestamp`)."""
        import polars as pl

        own = matches.filter(pl.col("rule_id").is_in(sorted(self.plan.correlated_ids)))
        if own.height == 0:
            return
        rows = own.get_column("event_index")
        self.correlated.append(
            events.select(
                pl.concat_str(
                    pl.lit(f"{dataset}:"), pl.col("_line").gather(rows).cast(pl.String)
                ).alias("event_key"),
                *(
                    pl.col(column).gather(rows).cast(pl.String).alias(name)
                    for name, column in self.plan.correlation_fields.items()
                ),
                pl.col("@timestamp").gather(rows).alias("time"),
            ).with_columns(own.get_column("rule_id"))
        )
