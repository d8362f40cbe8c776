"""Who is acting: passed to every service that changes a security record (for the audit log)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SYSTEM", "Actor"]


@dataclass(frozen=True)
class Actor:
    kind: str  # "user", "token", "system" or "cli"
    name: str
    user_id: int | None = None
    ip: str | None = None

    @property
    def label(self) -> str:
        return self.name if self.kind == "user" else f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", name="civicshield")
