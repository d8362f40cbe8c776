"""Job definitions: a name, the function that does the work, retry policy, optional schedule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, NotFound

__all__ = ["JobContext", "JobDefinition", "JobLogger", "JobRegistry"]


class JobLogger(Protocol):
    def info(self, message: str) -> None: ...
    def warning(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...


@dataclass
class JobContext:
    """What a job function receives: its own session (committed when it returns), its
    arguments, a logger whose lines are stored with the job, a clock and shared services."""

    session: Session
    args: dict[str, Any]
    log: JobLogger
    clock: Clock
    services: dict[str, Any] = field(default_factory=dict)


JobFunction = Callable[[JobContext], dict[str, Any] | None]


@dataclass(frozen=True)
class JobDefinition:
    name: str
    run: JobFunction
    description: str = ""
    max_attempts: int = 3
    backoff_seconds: int = 30
    every_seconds: int | None = None  # registers a schedule when set
    # A new schedule's first run waits this long (a heavy job should not run at first start).
    first_run_after_seconds: int = 0


class JobRegistry:
    def __init__(self) -> None:
        self._defs: dict[str, JobDefinition] = {}

    def add(self, definition: JobDefinition) -> None:
        if definition.name in self._defs:
            raise Conflict(f"job {definition.name!r} is registered twice")
        self._defs[definition.name] = definition

    def get(self, name: str) -> JobDefinition:
        try:
            return self._defs[name]
        except KeyError:
            known = ", ".join(sorted(self._defs)) or "none"
            raise NotFound(f"no job named {name!r} (known jobs: {known})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def all(self) -> list[JobDefinition]:
        return [self._defs[k] for k in sorted(self._defs)]
