"""A sliding-window limiter for login attempts per client address (in-process memory).

Per-account lockout lives in the database (`authenticate`); this limiter slows one address
spraying many accounts. With several server processes each keeps its own window.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import timedelta

from civicshield.core.clock import Clock
from civicshield.core.errors import RateLimited

__all__ = ["SlidingWindowLimiter"]


class SlidingWindowLimiter:
    def __init__(self, limit: int, window: timedelta, clock: Clock, max_keys: int = 10_000) -> None:
        self.limit, self.window, self.clock, self.max_keys = limit, window, clock, max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        """Count one attempt for `key`; raise RateLimited when over the limit."""
        now = self.clock.now().timestamp()
        horizon = now - self.window.total_seconds()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= self.limit:
                retry = int(hits[0] - horizon) + 1
                raise RateLimited(
                    "too many login attempts from your address; wait and retry", retry_after=retry
                )
            hits.append(now)
            if len(self._hits) > self.max_keys:
                self._evict(horizon)

    def _evict(self, horizon: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= horizon]:
            del self._hits[key]
