"""Audit's default plugin."""

from __future__ import annotations

from typing import Any

from civicshield.audit.jobs import JOBS
from civicshield.core.hookspecs import hookimpl

__all__ = ["civicshield_register_jobs"]


@hookimpl
def civicshield_register_jobs() -> list[Any]:
    return list(JOBS)
