"""Write a benchmark's section into docs/benchmarks.md and its figures to docs/benchmarks/."""

from __future__ import annotations

import json
import platform
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_section(name: str, body: str, figures: dict[str, Any]) -> None:
    """Replace (or add) the `## bench/NAME.py` section; keep other benches' sections."""
    (DOCS / "benchmarks").mkdir(parents=True, exist_ok=True)
    (DOCS / "benchmarks" / f"{name}.json").write_text(
        json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    path = DOCS / "benchmarks.md"
    text = (
        path.read_text(encoding="utf-8")
        if path.exists()
        else (
            "# Benchmarks\n\nEach section is written by the script it names; "
            "re-run it to refresh.\n"
        )
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    section = f"## bench/{name}.py — {stamp} — {cpu_name()}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## bench/{re.escape(name)}\.py .*?(?=^## |\Z)", re.S | re.M)
    text = (
        pattern.sub(lambda _m: section + "\n", text)
        if pattern.search(text)
        else (text.rstrip() + "\n\n" + section)
    )
    path.write_text(text.rstrip() + "\n", encoding="utf-8")
