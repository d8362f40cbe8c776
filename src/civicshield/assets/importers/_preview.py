"""What an import would do (or did): one `RowPlan` per record, errors located."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from civicshield.assets.schemas import SoftwareItem, SoftwarePlan

__all__ = ["Action", "ImportPreview", "RowError", "RowPlan"]

Action = Literal["create", "update", "unchanged", "error"]


class RowError(BaseModel):
    line: int = Field(description="1-based line of the file (or row of the sheet).")
    column: str | None = Field(description="The column or field at fault, or null for the row.")
    message: str
    where: str | None = Field(
        default=None, description="The place when a line is not enough: `Sheet!7`, a JSON path."
    )


class RowPlan(BaseModel):
    line: int
    action: Action
    asset_id: int | None = None
    matched_on: str | None = Field(
        default=None, description="How the row matched an existing asset, e.g. `mac aa:bb:…`."
    )
    name: str | None = None
    changes: dict[str, list[Any]] = Field(
        default_factory=dict, description="For updates: {field: [old, new]}."
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="The validated values the row sets."
    )
    errors: list[RowError] = Field(default_factory=list)
    warnings: list[RowError] = Field(
        default_factory=list, description="Parts of the record skipped (the row still imports)."
    )
    software: list[SoftwareItem] | None = Field(
        default=None, description="Components the row reports for its asset (null: none)."
    )
    software_source: str | None = None
    software_plan: SoftwarePlan | None = Field(
        default=None, description="Components to add, change, remove; how many are unchanged."
    )


class ImportPreview(BaseModel):
    source: str
    format: str = Field(description="csv, xlsx, nmap, cyclonedx or spdx.")
    columns: list[str] = Field(description="Recognised columns, in file order.")
    ignored_columns: list[str] = Field(description="Header columns that are not in the template.")
    rows: list[RowPlan]
    skipped: int = Field(default=0, description="Records left out on purpose (hosts down).")
    notes: list[str] = Field(default_factory=list)
    applied: bool = False

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(("create", "update", "unchanged", "error"), 0)
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def errors(self) -> list[RowError]:
        return [e for row in self.rows for e in row.errors]
