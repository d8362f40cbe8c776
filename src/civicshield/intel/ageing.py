"""Indicator ageing: an indicator expires at its `valid_until`, or else after a decay that
depends on what it points at — addresses change hands quickly, file hashes never do. The
caller passes its own `intel_decay_days` mapping (lookup kind -> days); missing kinds use the
defaults below, and an indicator with several kinds ages by the shortest."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

__all__ = ["DEFAULT_DECAY_DAYS", "OTHER_DECAY_DAYS", "decay_days_for", "expires_at"]

DEFAULT_DECAY_DAYS: dict[str, int] = {
    "ipv4": 30,
    "ipv6": 30,
    "port": 30,
    "dst_ip_port": 30,
    "src_ip_port": 30,
    "domain": 90,
    "url": 90,
    "email": 90,
    "md5": 365,
    "sha1": 365,
    "sha256": 365,
}
# Indicators we cannot match (no kind) still age, so lists of them do not grow for ever.
OTHER_DECAY_DAYS = 90


def decay_days_for(kinds: Iterable[str], decay_days: Mapping[str, int] | None = None) -> int:
    table = {**DEFAULT_DECAY_DAYS, **(decay_days or {})}
    days = [table.get(kind, OTHER_DECAY_DAYS) for kind in kinds]
    return min(days) if days else table.get("other", OTHER_DECAY_DAYS)


def expires_at(
    *,
    valid_from: datetime | None,
    valid_until: datetime | None,
    modified: datetime | None,
    kinds: Iterable[str],
    decay_days: Mapping[str, int] | None = None,
) -> datetime | None:
    """`valid_until` when given; else the later of `valid_from` and `modified` (a new version
    refreshes the information) plus the decay; None when there is nothing to count from."""
    if valid_until is not None:
        return valid_until
    starts = [t for t in (valid_from, modified) if t is not None]
    if not starts:
        return None
    return max(starts) + timedelta(days=decay_days_for(kinds, decay_days))
