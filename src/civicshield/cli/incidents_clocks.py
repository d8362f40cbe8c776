"""`civicshield incidents ...`: clocks commands (being built)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the clocks commands to `civicshield incidents`."""
