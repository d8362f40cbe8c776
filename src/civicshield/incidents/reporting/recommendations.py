"""Reusable recommendation blocks for incident reports: versioned YAML files under
`recommendations/`, each with a title and text in English, Spanish and French and the playbooks
and tags it suits (those are suggested first for a case)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from civicshield.core.errors import FieldError, Invalid

__all__ = ["LANGUAGES", "Recommendation", "load_recommendations", "pick", "suggested"]

FOLDER = Path(__file__).resolve().parent / "recommendations"
LANGUAGES = ("en", "es", "fr")


@dataclass(frozen=True)
class Recommendation:
    id: str
    version: int
    title: dict[str, str]
    text: dict[str, str]
    playbooks: tuple[str, ...]
    tags: tuple[str, ...]

    def in_language(self, lang: str) -> tuple[str, str]:
        """(title, text) in `lang` ("es-MX" → "es"), English when missing."""
        short = lang.split("-")[0].lower()
        return self.title.get(short, self.title["en"]), self.text.get(short, self.text["en"])


def _parse(path: Path) -> Recommendation:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for part in ("title", "text"):
        missing = [lang for lang in LANGUAGES if not str(data[part].get(lang, "")).strip()]
        if missing:
            raise ValueError(f"{path.name}: {part} lacks {', '.join(missing)}")
    if data["id"] != path.stem:
        raise ValueError(f"{path.name}: id {data['id']!r} differs from the file name")
    return Recommendation(
        id=data["id"], version=int(data["version"]), title=dict(data["title"]),
        text=dict(data["text"]), playbooks=tuple(data.get("playbooks") or ()),
        tags=tuple(data.get("tags") or ()),
    )  # fmt: skip


@cache
def load_recommendations() -> dict[str, Recommendation]:
    """Every block by id (sorted)."""
    return {r.id: r for r in sorted(map(_parse, FOLDER.glob("*.yaml")), key=lambda r: r.id)}


def suggested(playbook_id: str, tags: Sequence[str] = ()) -> list[Recommendation]:
    """All blocks, those suiting the playbook (or one of the tags) first, then the general ones."""
    known = load_recommendations().values()

    def rank(r: Recommendation) -> int:
        if playbook_id and playbook_id in r.playbooks:
            return 0
        if set(tags) & set(r.tags):
            return 1
        return 2 if not r.playbooks else 3

    return sorted(known, key=lambda r: (rank(r), r.id))


def pick(ids: Sequence[str]) -> list[Recommendation]:
    """The blocks named, in the order given; an unknown id is refused by name."""
    known = load_recommendations()
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise Invalid(
            f"unknown recommendation block(s): {', '.join(unknown)}",
            [FieldError(("query", "blocks"), f"use some of: {', '.join(known)}")],
        )
    return [known[i] for i in dict.fromkeys(ids)]
