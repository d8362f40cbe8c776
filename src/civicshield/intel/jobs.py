"""Intel jobs of the store itself (ageing)."""

from __future__ import annotations

from typing import Any

__all__ = ["JOBS"]

JOBS: list[Any] = []
