"""Addresses to zones: the most specific CIDR wins.

The zones' IPv4 networks are flattened once into disjoint, sorted intervals labelled with their
most specific zone; a frame's addresses then find theirs with one as-of join (vectorised). IPv6
addresses, few in city telemetry, are looked up per distinct value.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from civicshield.detect.segmentation.policy import Policy

__all__ = ["ZoneMap"]

_Net = ipaddress.IPv4Network | ipaddress.IPv6Network
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED = rf"^{_OCTET}(\.{_OCTET}){{3}}$"


@dataclass(frozen=True)
class ZoneMap:
    policy: Policy

    @cached_property
    def networks(self) -> list[tuple[_Net, str]]:
        return [
            (ipaddress.ip_network(cidr, strict=False), zone.id)
            for zone in self.policy.zones
            for cidr in zone.cidrs
        ]

    def _intervals(self, version: int) -> list[tuple[int, int, str]]:
        nets = [(n, z) for n, z in self.networks if n.version == version]
        cuts = sorted({int(n.network_address) for n, _ in nets}
                      | {int(n.broadcast_address) + 1 for n, _ in nets})  # fmt: skip
        out: list[tuple[int, int, str]] = []
        for lo, nxt in itertools.pairwise(cuts):
            covering = [(n.prefixlen, z) for n, z in nets
                        if int(n.network_address) <= lo <= int(n.broadcast_address)]  # fmt: skip
            if not covering:
                continue
            zone = max(covering)[1]
            if out and out[-1][2] == zone and out[-1][1] == lo - 1:
                out[-1] = (out[-1][0], nxt - 1, zone)
            else:
                out.append((lo, nxt - 1, zone))
        return out

    @cached_property
    def v4_table(self) -> pl.DataFrame:
        rows = self._intervals(4)
        return pl.DataFrame(
            {"_lo": [r[0] for r in rows], "_hi": [r[1] for r in rows],
             "_zone": [r[2] for r in rows]},
            schema={"_lo": pl.Int64, "_hi": pl.Int64, "_zone": pl.String},
        ).sort("_lo")  # fmt: skip

    @cached_property
    def _v6(self) -> tuple[list[int], list[tuple[int, int, str]]]:
        rows = self._intervals(6)
        return [r[0] for r in rows], rows

    def zone_of(self, address: str) -> str:
        """One address's zone (the outside zone when none, or when it is not an address)."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return self.policy.outside_zone
        if ip.version == 4:
            rows = self.v4_table.rows()
            starts = [r[0] for r in rows]
        else:
            starts, rows = self._v6
        at = bisect.bisect_right(starts, int(ip)) - 1
        if at >= 0 and rows[at][0] <= int(ip) <= rows[at][1]:
            return str(rows[at][2])
        return self.policy.outside_zone

    def assign(self, frame: pl.DataFrame, column: str, out: str) -> pl.DataFrame:
        """`frame` with `out`: the zone of the address in `column` (String)."""
        distinct = frame.select(pl.col(column).unique().alias("_ip")).drop_nulls()
        octets = pl.col("_ip").str.split_exact(".", 3)
        numbered = distinct.with_columns(
            pl.when(pl.col("_ip").str.contains(_DOTTED))
            .then(
                sum(  # a.b.c.d as one integer
                    octets.struct.field(f"field_{i}").cast(pl.Int64, strict=False)
                    * (256 ** (3 - i))
                    for i in range(4)
                )
            )
            .alias("_n")
        )
        v4 = numbered.filter(pl.col("_n").is_not_null()).sort("_n")
        joined = v4.join_asof(self.v4_table, left_on="_n", right_on="_lo", strategy="backward")
        v4_zones = joined.select(
            "_ip",
            pl.when(pl.col("_n") <= pl.col("_hi"))
            .then(pl.col("_zone"))
            .otherwise(pl.lit(self.policy.outside_zone))
            .alias(out),
        )
        others = numbered.filter(pl.col("_n").is_null())["_ip"].to_list()
        v6_zones = pl.DataFrame(
            {"_ip": others, out: [self.zone_of(a) for a in others]},
            schema={"_ip": pl.String, out: pl.String},
        )
        table = pl.concat([v4_zones, v6_zones])
        result = frame.join(
            table, left_on=column, right_on="_ip", how="left", coalesce=True, maintain_order="left"
        )
        return result.with_columns(  # no address, no zone: such a flow gets no verdict
            pl.when(pl.col(column).is_not_null())
            .then(pl.col(out).fill_null(self.policy.outside_zone))
            .alias(out)
        )
