"""The rule catalogue's default plugin."""

from __future__ import annotations

from typing import Any

from civicshield.core.hookspecs import hookimpl
from civicshield.rules.jobs import JOBS

__all__ = ["civicshield_register_jobs"]


@hookimpl
def civicshield_register_jobs() -> list[Any]:
    return list(JOBS)
