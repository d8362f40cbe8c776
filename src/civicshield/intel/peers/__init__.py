"""(being built)"""

from typing import Any

__all__ = ["JOBS"]

JOBS: list[Any] = []
