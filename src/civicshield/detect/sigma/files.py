"""Which files are rules (no pySigma here: the compiled rule cache hashes them without parsing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

__all__ = ["RULE_SUFFIXES", "iter_rule_files"]

RULE_SUFFIXES = (".yml", ".yaml")


def iter_rule_files(root: Path) -> Iterator[Path]:
    """`*.yml` / `*.yaml` files under `root` (or `root` itself), sorted, hidden folders skipped."""
    if root.is_file():
        yield root
        return
    found = (p for p in root.rglob("*") if p.suffix.lower() in RULE_SUFFIXES and p.is_file())
    for path in sorted(found):
        if not any(part.startswith(".") for part in path.relative_to(root).parts):
            yield path
