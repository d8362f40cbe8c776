"""Small Sigma rule files for tests, written into a temporary folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["rule_yaml", "write_rule"]


def rule_yaml(
    rule_id: str,
    *,
    title: str = "Test rule",
    level: str = "high",
    status: str = "test",
    tags: tuple[str, ...] = ("attack.execution", "attack.t1059.001"),
    field: str = "Image|endswith",
    author: str | None = "CivicShield tests",
) -> str:
    tag_lines = "".join(f"    - {t}\n" for t in tags)
    author_line = f"author: {author}\n" if author else ""
    return (
        f"title: {title}\n"
        f"id: {rule_id}\n"
        f"status: {status}\n"
        "description: A rule written by the tests\n"
        f"{author_line}"
        "date: 2026-01-01\n"
        f"tags:\n{tag_lines}"
        "logsource:\n"
        "    category: process_creation\n"
        "    product: windows\n"
        "detection:\n"
        "    selection:\n"
        f"        {field}: '\\powershell.exe'\n"
        "    condition: selection\n"
        f"level: {level}\n"
    )


def write_rule(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
