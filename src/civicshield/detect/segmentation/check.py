"""Validate a policy beyond its shape: bad networks, zones that claim the same network,
nested networks (the more specific wins: said, not refused), rules naming unknown zones, and
rules that never apply because an earlier rule covers every flow they would match."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

from civicshield.detect.segmentation.policy import FlowRule, Policy

__all__ = ["Issue", "check_policy"]


@dataclass(frozen=True)
class Issue:
    level: Literal["error", "warning"]
    where: str  # "zones.2.cidrs.0", "rules.5"
    message: str


def check_policy(policy: Policy) -> list[Issue]:
    issues = _zone_issues(policy)
    known = set(policy.zone_ids)
    seen: set[str] = set()
    for i, z in enumerate(policy.zones):
        if z.id in seen:
            issues.append(Issue("error", f"zones.{i}.id", f"zone id {z.id!r} is used twice"))
        seen.add(z.id)
    rule_ids: set[str] = set()
    for i, rule in enumerate(policy.rules):
        if rule.id in rule_ids:
            issues.append(Issue("error", f"rules.{i}.id", f"rule id {rule.id!r} is used twice"))
        rule_ids.add(rule.id)
        for side, zones in (("from", rule.from_zones), ("to", rule.to_zones)):
            for zone in zones:
                if zone not in known:
                    issues.append(Issue("error", f"rules.{i}.{side}", f"unknown zone {zone!r}"))
        for j, earlier in enumerate(policy.rules[:i]):
            if _covers(earlier, rule):
                verb = "repeats" if earlier.action == rule.action else "contradicts"
                issues.append(Issue(
                    "warning", f"rules.{i}",
                    f"rule {rule.id!r} never applies: rule {earlier.id!r} (rules.{j}) comes "
                    f"first and matches every flow it would match ({verb} it: "
                    f"{earlier.action} vs {rule.action})",
                ))  # fmt: skip
                break
    return issues


def _zone_issues(policy: Policy) -> list[Issue]:
    issues: list[Issue] = []
    nets: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str, str]] = []
    for i, z in enumerate(policy.zones):
        for k, cidr in enumerate(z.cidrs):
            where = f"zones.{i}.cidrs.{k}"
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                issues.append(Issue("error", where, f"{cidr!r} is not a network: {exc}"))
                continue
            nets.append((net, z.id, where))
    for a, (net, zone, where) in enumerate(nets):
        for other, other_zone, other_where in nets[a + 1 :]:
            if net.version != other.version or not net.overlaps(other):
                continue
            if net == other:
                level: Literal["error", "warning"] = "error" if zone != other_zone else "warning"
                issues.append(Issue(level, other_where,
                                    f"{other} is already in zone {zone!r} ({where})"))  # fmt: skip
            elif zone != other_zone and min(net.prefixlen, other.prefixlen) > 0:
                # (inside a default route is how every zone sits in "the internet": not news)
                inner, outer = (net, other) if net.prefixlen > other.prefixlen else (other, net)
                owner = zone if inner == net else other_zone
                issues.append(Issue(
                    "warning", other_where,
                    f"{inner} (zone {owner!r}) lies inside {outer}: addresses in it belong to "
                    f"{owner!r}, the more specific network",
                ))  # fmt: skip
    return issues


def _covers(first: FlowRule, later: FlowRule) -> bool:
    """Whether every flow `later` matches is matched by `first` (empty = any)."""

    def within(outer: tuple[str, ...], inner: tuple[str, ...]) -> bool:
        return not outer or (bool(inner) and set(inner) <= set(outer))

    if not (within(first.from_zones, later.from_zones) and within(first.to_zones, later.to_zones)):
        return False
    if not within(first.protocols, later.protocols):
        return False
    return all(
        any(lo <= l_lo and l_hi <= hi for lo, hi in first.port_ranges())
        for l_lo, l_hi in later.port_ranges()
    )
