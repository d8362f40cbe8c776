"""Inventory importers: each turns a file into an `ImportPreview` (what would be created,
updated or left alone, with located errors, and software to add/change/remove) that `apply`
then writes. `preview_import` sniffs the format and picks the importer."""

from civicshield.assets.importers._common import ImportDefaults
from civicshield.assets.importers._plan import ImportPreview, RowError, RowPlan, apply
from civicshield.assets.importers.csv import TEMPLATE_COLUMNS, preview_csv, template_csv
from civicshield.assets.importers.detect import FORMATS, detect_format, preview_import
from civicshield.assets.importers.xlsx import template_xlsx

__all__ = [
    "FORMATS",
    "TEMPLATE_COLUMNS",
    "ImportDefaults",
    "ImportPreview",
    "RowError",
    "RowPlan",
    "apply",
    "detect_format",
    "preview_csv",
    "preview_import",
    "template_csv",
    "template_xlsx",
]
