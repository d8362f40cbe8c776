"""The demo city's threat intel: two peer cities sharing indicators about the camera botnet."""

from __future__ import annotations

from typing import Any

from civicshield.core.settings import Settings

__all__ = ["load_demo_intel"]


def load_demo_intel(session: Any, settings: Settings, *, clock: Any) -> list[str]:
    return []
