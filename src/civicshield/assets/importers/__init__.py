"""Inventory importers: each turns a file into an `ImportPreview` (what would be created,
updated or left alone, with located errors) that `apply` then writes."""

from civicshield.assets.importers._plan import ImportPreview, RowError, RowPlan, apply
from civicshield.assets.importers.csv import TEMPLATE_COLUMNS, preview_csv, template_csv

__all__ = [
    "TEMPLATE_COLUMNS",
    "ImportPreview",
    "RowError",
    "RowPlan",
    "apply",
    "preview_csv",
    "template_csv",
]
