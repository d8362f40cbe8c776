"""In-process domain events: flows that would go upward a layer (a citizen report opening an
incident) are published here by the lower domain and wired to a handler in `app`."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DomainEvent", "EventBus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DomainEvent:
    name: str
    payload: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[DomainEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def subscribe(self, name: str, handler: Handler) -> None:
        self._handlers[name].append(handler)

    def publish(self, event: DomainEvent) -> int:
        """Call every handler of the event; return how many ran. Handler errors propagate."""
        handlers = self._handlers.get(event.name, [])
        for handler in handlers:
            handler(event)
        log.debug("event %s delivered to %d handler(s)", event.name, len(handlers))
        return len(handlers)
