"""The rule selection options shared by `rules list`, `rules validate` (and `detect`): the
option types (`FolderOption`, …) and `selection_from_options`, which turns them into a
`RuleSelection`.

Rules under `deprecated/` or `unsupported/` folders, or with those statuses, are left out
unless `--include-deprecated`; asking for them explicitly (`--status deprecated`,
`--folder deprecated/windows`) also brings them back, as a request beats a default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from civicshield.cli._common import fail, parse_choice
from civicshield.core import Severity

if TYPE_CHECKING:
    from civicshield.detect import RuleSelection

__all__ = [
    "MAPPING_NAMES",
    "ExcludeFolderOption",
    "FolderOption",
    "IncludeDeprecatedOption",
    "MinLevelOption",
    "StatusOption",
    "TagOption",
    "check_mapping",
    "mapping_option",
    "selection_from_options",
]

FolderOption = Annotated[
    list[str] | None,
    typer.Option(
        "--folder",
        help="Only rules under this folder glob, relative to the rules folder (repeatable),"
        " e.g. windows or 'windows/process_*'.",
        show_default=False,
    ),
]
ExcludeFolderOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude-folder",
        help="Leave out rules under this folder glob (repeatable).",
        show_default=False,
    ),
]
StatusOption = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        help="Only rules with this status (repeatable): stable, test, experimental, …",
        show_default=False,
    ),
]
TagOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        help="Only rules with a tag matching this case-insensitive glob (repeatable),"
        " e.g. 'attack.t1059*'.",
        show_default=False,
    ),
]
MinLevelOption = Annotated[
    str | None,
    typer.Option(
        "--min-level",
        "--level",
        help="Only rules of this level or higher: informational, low, medium, high, critical.",
        show_default=False,
    ),
]
IncludeDeprecatedOption = Annotated[
    bool,
    typer.Option(
        "--include-deprecated",
        help="Also take rules under deprecated/ and unsupported/ folders or with those statuses.",
    ),
]


def selection_from_options(
    *,
    folders: Sequence[str] | None = None,
    exclude_folders: Sequence[str] | None = None,
    statuses: Sequence[str] | None = None,
    tags: Sequence[str] | None = None,
    min_level: str | None = None,
    include_deprecated: bool = False,
) -> RuleSelection:
    """The `RuleSelection` the command-line options ask for (None/empty: no restriction).
    Raises `Invalid` for an unknown level."""
    from civicshield.detect import RuleSelection
    from civicshield.detect.sigma import folder_matches

    wanted_folders = tuple(f.strip().strip("/") for f in folders or () if f.strip())
    wanted_statuses = frozenset(s.strip().lower() for s in statuses or () if s.strip())
    base = RuleSelection.everything() if include_deprecated else RuleSelection()
    # A default exclusion yields to an explicit request for what it excludes.
    kept_defaults = tuple(
        glob
        for glob in base.exclude_folders
        if glob.rsplit("/", 1)[-1] not in wanted_statuses
        and not any(folder_matches(f, glob) for f in wanted_folders)
    )
    # ... and asking for the `deprecated/` folder means its rules, whatever their status
    lifted = {g.rsplit("/", 1)[-1] for g in base.exclude_folders if g not in kept_defaults}
    return RuleSelection(
        folders=wanted_folders,
        exclude_folders=kept_defaults + tuple(g.strip() for g in exclude_folders or ()),
        min_level=parse_choice(Severity.parse, min_level) if min_level else None,
        statuses=wanted_statuses,
        exclude_statuses=base.exclude_statuses - lifted,
        tags=tuple(t.strip() for t in tags or () if t.strip()),
    )


# The names of `civicshield.detect.engine.mappings.MAPPINGS`, spelled out here because that
# module imports pySigma, which a warm `detect` must not (a test keeps the two equal).
MAPPING_NAMES = ("windows", "winlogbeat", "linux", "combined", "tagged")


def mapping_option(default: str) -> Any:
    """A `--mapping` option (the event shape the rules are compiled for)."""
    return typer.Option(
        "--mapping",
        help="Event shape: windows (flattened Windows JSON and EVTX), winlogbeat (ECS JSON),"
        " linux (auditd, Sysmon for Linux, syslog JSON), tagged (events naming their log source"
        " in logsource.product/service/category) or combined (windows, linux, else tagged)."
        f" Default: {default}.",
    )


def check_mapping(name: str) -> str:
    """`name` when it is a known mapping; else a usage error naming the choices."""
    if name not in MAPPING_NAMES:
        fail(f"unknown mapping {name!r} (choose from {', '.join(MAPPING_NAMES)})", code=2)
    return name
