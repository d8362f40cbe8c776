"""`civicshield incidents ...`: notices commands (being built)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the notices commands to `civicshield incidents`."""
