"""XLSX inventory import: the CSV template (`docs/assets.md`) as the first sheet of a workbook.

Row 1 of the first sheet is the header; each later row is an asset, with the same cells, list
separators and merge rules as the CSV import. Errors name the sheet and row (`Assets!7`) and
the column. Workbooks are read in openpyxl's read-only mode with cached values (formulas are
not evaluated); only a file that is not a workbook at all is refused.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from civicshield.assets.importers._plan import ImportPreview, Matcher, RowPlan, plan_row
from civicshield.assets.importers.csv import TEMPLATE_COLUMNS, header_columns, row_values
from civicshield.assets.service import Scope
from civicshield.core.errors import Invalid

__all__ = ["XLSX_MAGIC", "preview_xlsx", "template_xlsx"]

XLSX_MAGIC = b"PK\x03\x04"
_SHEET = "Assets"


def _text(value: Any) -> str:
    """A cell as the CSV importer would see it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def template_xlsx() -> bytes:
    """A workbook with the template's header row on a sheet named `Assets`."""
    from openpyxl import Workbook  # openpyxl costs ~0.3 s to import: only when used
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _SHEET
    sheet.append(list(TEMPLATE_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _located(row: RowPlan, sheet: str) -> RowPlan:
    errors = [e.model_copy(update={"where": f"{sheet}!{e.line}"}) for e in row.errors]
    return row.model_copy(update={"errors": errors})


def preview_xlsx(
    session: Session, data: bytes, *, source: str = "<upload>", scope: Scope = None
) -> ImportPreview:
    """Parse an XLSX inventory and say what importing it would do; writes nothing."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise Invalid(f"{source}: not a readable XLSX workbook ({exc})") from None
    try:
        if not book.worksheets:
            raise Invalid(f"{source}: the workbook has no sheet")
        sheet = book.worksheets[0]
        rows_iter = sheet.iter_rows(values_only=True)
        header = next(rows_iter, None)
        if header is None or not any(_text(c).strip() for c in header):
            raise Invalid(f"{source}: sheet {sheet.title!r} is empty (it needs a header row)")
        columns, ignored = header_columns([_text(c) for c in header], f"{source} {sheet.title}!")
        matcher = Matcher.load(session)
        rows: list[RowPlan] = []
        for number, cells in enumerate(rows_iter, start=2):
            texts = [_text(c) for c in cells]
            if not any(t.strip() for t in texts):
                continue
            values, errors = row_values(number, columns, texts)
            if errors:
                row = RowPlan(line=number, action="error", errors=errors)
            else:
                row = plan_row(session, matcher, number, values, scope)
            rows.append(_located(row, sheet.title))
    finally:
        book.close()
    return ImportPreview(
        source=source,
        format="xlsx",
        columns=[c for c in columns if c],
        ignored_columns=ignored,
        rows=rows,
    )
