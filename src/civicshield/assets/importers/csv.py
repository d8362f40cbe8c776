"""CSV inventory import: the documented template (`docs/assets.md`), preview, then apply.

The file is UTF-8 (a BOM is fine) with a header row naming template columns in any order;
the delimiter is a comma, semicolon or tab (whichever the header uses most). List cells (ips,
macs, hostnames, tags) hold several values separated by `;`, `|`, `,` or spaces (tags: not
spaces). A blank cell leaves the stored value alone. A bad cell makes its row an error that
names the line and column; the other rows still import. Only a file that cannot be read as
CSV at all (not UTF-8, no header, duplicate or no known columns) is refused as a whole.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from civicshield.assets.enums import CRITICALITY_LABELS, AssetKind, Lifecycle
from civicshield.assets.importers._plan import ImportPreview, Matcher, RowError, RowPlan, plan_row
from civicshield.assets.service import Scope
from civicshield.core.enums import Sector
from civicshield.core.errors import Invalid

__all__ = [
    "TEMPLATE_COLUMNS",
    "header_columns",
    "preview_csv",
    "row_values",
    "template_csv",
]

TEMPLATE_COLUMNS: tuple[str, ...] = (
    "name",
    "sector",
    "zone",
    "kind",
    "vendor",
    "product",
    "version",
    "serial",
    "cpe",
    "purl",
    "ips",
    "macs",
    "hostnames",
    "address",
    "latitude",
    "longitude",
    "owner",
    "contact",
    "criticality",
    "internet_exposed",
    "tags",
    "lifecycle",
)
_LIST_SPLIT = re.compile(r"[;|,\s]+")
_TAG_SPLIT = re.compile(r"\s*[;|,]\s*")
_TRUE = {"true", "yes", "y", "1", "x", "sí", "si", "oui"}
_FALSE = {"false", "no", "n", "0", "non"}
_CRITICALITY_BY_LABEL = {label.lower(): level for level, label in CRITICALITY_LABELS.items()}


def template_csv() -> str:
    """The header row of the template (what `docs/assets.md` documents)."""
    return ",".join(TEMPLATE_COLUMNS) + "\r\n"


def _bool(cell: str) -> bool:
    value = cell.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{cell!r} is not yes/no (use true/false, yes/no or 1/0)")


def _criticality(cell: str) -> int:
    value = cell.strip().lower()
    if value in _CRITICALITY_BY_LABEL:
        return _CRITICALITY_BY_LABEL[value]
    if value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    labels = ", ".join(f"{n} {label.lower()}" for n, label in CRITICALITY_LABELS.items())
    raise ValueError(f"{cell!r} is not a criticality (1-5 or a label: {labels})")


def _float(cell: str) -> float:
    try:
        return float(cell.strip().replace(",", "."))
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None


def _list(cell: str) -> list[str]:
    return [v for v in _LIST_SPLIT.split(cell.strip()) if v]


def _tags(cell: str) -> list[str]:
    return [v for v in _TAG_SPLIT.split(cell.strip()) if v]


_CONVERT: dict[str, Callable[[str], Any]] = {
    "sector": Sector.parse,
    "kind": AssetKind.parse,
    "lifecycle": Lifecycle.parse,
    "criticality": _criticality,
    "internet_exposed": _bool,
    "latitude": _float,
    "longitude": _float,
    "ips": _list,
    "macs": _list,
    "hostnames": _list,
    "tags": _tags,
}


def _decode(data: bytes | str, source: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(
            f"{source}: not UTF-8 text (byte {exc.start}); save the sheet as 'CSV UTF-8'"
        ) from None


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def header_columns(raw: list[str], source: str) -> tuple[list[str | None], list[str]]:
    """Column name per position (None: ignored) and the ignored names."""
    names = [re.sub(r"[\s-]+", "_", cell.strip().lower()) for cell in raw]
    seen: set[str] = set()
    columns: list[str | None] = []
    ignored: list[str] = []
    for original, name in zip(raw, names, strict=True):
        if name in seen:
            raise Invalid(f"{source}:1: column {name!r} appears twice in the header")
        seen.add(name)
        if name in TEMPLATE_COLUMNS:
            columns.append(name)
        else:
            columns.append(None)
            if original.strip():
                ignored.append(original.strip())
    if not any(columns):
        raise Invalid(
            f"{source}:1: the header names no template column "
            f"(expected some of: {', '.join(TEMPLATE_COLUMNS)})"
        )
    return columns, ignored


def row_values(
    line: int, columns: list[str | None], cells: list[str]
) -> tuple[dict[str, Any], list[RowError]]:
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    if len(cells) > len(columns):
        extra = cells[len(columns) :]
        if any(c.strip() for c in extra):
            errors.append(
                RowError(
                    line=line,
                    column=None,
                    message=f"{len(cells)} cells but the header has {len(columns)} columns",
                )
            )
    for name, cell in zip(columns, cells, strict=False):
        if name is None or not cell.strip():
            continue
        convert = _CONVERT.get(name)
        try:
            values[name] = convert(cell) if convert else cell.strip()
        except ValueError as exc:
            errors.append(RowError(line=line, column=name, message=str(exc)))
    return values, errors


def preview_csv(
    session: Session, data: bytes | str, *, source: str = "<upload>", scope: Scope = None
) -> ImportPreview:
    """Parse a CSV inventory and say what importing it would do; writes nothing."""
    text = _decode(data, source)
    if not text.strip():
        raise Invalid(f"{source}: the file is empty (it needs a header row)")
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = next(reader)
        columns, ignored = header_columns(header, source)
        matcher = Matcher.load(session)
        rows: list[RowPlan] = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            values, errors = row_values(line, columns, cells)
            if errors:
                rows.append(RowPlan(line=line, action="error", errors=errors))
                continue
            rows.append(plan_row(session, matcher, line, values, scope))
    except csv.Error as exc:
        raise Invalid(f"{source}:{reader.line_num}: not readable as CSV: {exc}") from None
    return ImportPreview(
        source=source,
        format="csv",
        columns=[c for c in columns if c],
        ignored_columns=ignored,
        rows=rows,
    )
