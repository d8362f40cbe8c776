"""What an import did: counts and the objects it refused, each with the reason and where."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ImportReport", "Refusal"]


@dataclass(frozen=True)
class Refusal:
    """One refused object: `path` is a JSON path (`$.objects[3]`) or `file:line`."""

    path: str
    reason: str
    stix_id: str = ""


@dataclass
class ImportReport:
    """`read` objects seen; `stored` = `new` (first version) + `new_versions`; `unchanged`
    versions already held; `refused` with reasons. `not_matchable` counts indicators kept
    whose pattern we cannot match; `skipped` counts inputs deliberately left out (a MISP
    attribute without `to_ids`, an unchanged feed event)."""

    source: str
    read: int = 0
    new: int = 0
    new_versions: int = 0
    unchanged: int = 0
    skipped: int = 0
    not_matchable: int = 0
    refused: list[Refusal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.new + self.new_versions

    def refuse(self, path: str, reason: str, stix_id: str = "") -> None:
        self.refused.append(Refusal(path, reason, stix_id))

    def merge(self, other: ImportReport) -> None:
        self.read += other.read
        self.new += other.new
        self.new_versions += other.new_versions
        self.unchanged += other.unchanged
        self.skipped += other.skipped
        self.not_matchable += other.not_matchable
        self.refused.extend(other.refused)
        self.notes.extend(other.notes)

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "read": self.read,
            "stored": self.stored,
            "new": self.new,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "not_matchable": self.not_matchable,
            "refused": [
                {"path": r.path, "reason": r.reason, "stix_id": r.stix_id} for r in self.refused
            ],
            "notes": list(self.notes),
        }
