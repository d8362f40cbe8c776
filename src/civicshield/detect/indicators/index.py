"""Match events against a compiled indicator set with joins, so a million indicators cost no
more per event than a thousand.

Exact values (IPv4 hosts, domains, URLs, hashes, e-mail addresses, ports) are hash joins on
the event columns; IPv4 networks are one join per distinct prefix length (the address masked to
that length against the networks' addresses); a domain indicator also matches its subdomains
(each event domain's suffixes are joined); IPv6, rare in city telemetry, is looked up per
distinct address. An address-and-port lookup (`dst_ip_port`, `src_ip_port`) is a join on
both the address (masked to its prefix) and the port of the same side of one event.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import polars as pl

from civicshield.detect.indicators.pattern import Lookup

__all__ = ["FIELDS", "IndicatorIndex"]

# kind -> event columns it is looked up in (ECS names, as the readers give them)
FIELDS: dict[str, tuple[str, ...]] = {
    "ipv4": ("source.ip", "destination.ip"),
    "ipv6": ("source.ip", "destination.ip"),
    "domain": ("dns.question.name", "url.domain", "tls.client.server_name"),
    "url": ("url.full",),
    "md5": ("file.hash.md5",),
    "sha1": ("file.hash.sha1",),
    "sha256": ("file.hash.sha256",),
    "email": ("email.from.address", "email.to.address", "user.email"),
    "port": ("destination.port",),
}
# address-and-port kinds -> (address column, port column) of one side of a flow
PAIRS: dict[str, tuple[str, str]] = {
    "dst_ip_port": ("destination.ip", "destination.port"),
    "src_ip_port": ("source.ip", "source.port"),
}
_MAX_LABELS = 12  # suffixes tried per event domain


_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED = rf"^{_OCTET}(\.{_OCTET}){{3}}$"


def _ip4_int(expr: pl.Expr) -> pl.Expr:
    """a.b.c.d as one integer; null for anything that is not a dotted IPv4 address."""
    parts = expr.str.split_exact(".", 3)
    total: pl.Expr = pl.lit(0, dtype=pl.Int64)
    for i in range(4):
        total = total + parts.struct.field(f"field_{i}").cast(pl.Int64, strict=False) * 256 ** (
            3 - i
        )
    return pl.when(expr.str.contains(_DOTTED)).then(total)


@dataclass
class IndicatorIndex:
    """Built once per indicator set; `match` a frame as often as needed."""

    exact: dict[str, pl.DataFrame] = field(default_factory=dict)  # kind -> (value, indicator)
    v4_nets: dict[int, pl.DataFrame] = field(default_factory=dict)  # prefix -> (net, indicator)
    v6_nets: list[tuple[ipaddress.IPv6Network, str]] = field(default_factory=list)
    # kind -> prefix -> (net, port, indicator); IPv6 pairs are checked per distinct address
    v4_pairs: dict[str, dict[int, pl.DataFrame]] = field(default_factory=dict)
    v6_pairs: dict[str, list[tuple[ipaddress.IPv6Network, int, str]]] = field(default_factory=dict)
    size: int = 0

    @classmethod
    def build(cls, items: Iterable[tuple[str, Sequence[Lookup]]]) -> IndicatorIndex:
        """`items`: (indicator id, its compiled lookups)."""
        values: dict[str, list[tuple[object, str]]] = defaultdict(list)
        v4: dict[int, list[tuple[int, str]]] = defaultdict(list)
        pairs: dict[str, dict[int, list[tuple[int, int, str]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        index = cls()
        for indicator, lookups in items:
            index.size += 1
            for lk in lookups:
                if lk.kind == "ipv4":
                    net = ipaddress.IPv4Network(str(lk.value))
                    if net.prefixlen == 32:
                        values["ipv4"].append((int(net.network_address), indicator))
                    else:
                        v4[net.prefixlen].append((int(net.network_address), indicator))
                elif lk.kind == "ipv6":
                    index.v6_nets.append((ipaddress.IPv6Network(str(lk.value)), indicator))
                elif lk.kind in PAIRS:
                    text, _, port = str(lk.value).rpartition("|")
                    pair = ipaddress.ip_network(text)
                    if isinstance(pair, ipaddress.IPv6Network):
                        index.v6_pairs.setdefault(lk.kind, []).append((pair, int(port), indicator))
                    else:
                        address = int(pair.network_address)
                        pairs[lk.kind][pair.prefixlen].append((address, int(port), indicator))
                else:
                    values[lk.kind].append((lk.value, indicator))
        for kind, rows in values.items():
            dtype = pl.Int64 if kind in ("ipv4", "port") else pl.String
            index.exact[kind] = pl.DataFrame(
                {"_v": [r[0] for r in rows], "indicator": [r[1] for r in rows]},
                schema={"_v": dtype, "indicator": pl.String},
            ).unique()
        for prefix, nets in v4.items():
            index.v4_nets[prefix] = pl.DataFrame(
                {"_v": [n[0] for n in nets], "indicator": [n[1] for n in nets]},
                schema={"_v": pl.Int64, "indicator": pl.String},
            ).unique()
        for kind, by_prefix in pairs.items():
            index.v4_pairs[kind] = {
                prefix: pl.DataFrame(
                    rows, schema={"_v": pl.Int64, "_p": pl.Int64, "indicator": pl.String},
                    orient="row",
                ).unique()
                for prefix, rows in by_prefix.items()
            }  # fmt: skip
        return index

    def match(self, events: pl.DataFrame) -> pl.DataFrame:
        """One row per (event row, indicator, field) matched: `event_index`, `indicator`,
        `field`, `value`."""
        frame = events.with_row_index("event_index")
        found: list[pl.DataFrame] = []
        for kind, columns in FIELDS.items():
            for column in columns:
                if column not in frame.columns:
                    continue
                found.extend(self._match_column(frame, kind, column))
        for kind, (address, port) in PAIRS.items():
            if address in frame.columns and port in frame.columns:
                found.extend(self._match_pair(frame, kind, address, port))
        if not found:
            return pl.DataFrame(schema={"event_index": pl.UInt32, "indicator": pl.String,
                                        "field": pl.String, "value": pl.String})  # fmt: skip
        return pl.concat(found).unique(maintain_order=True)

    def _match_column(self, frame: pl.DataFrame, kind: str, column: str) -> list[pl.DataFrame]:
        col = pl.col(column)
        base = frame.select("event_index", col.cast(pl.String).alias("value")).drop_nulls("value")
        out: list[pl.DataFrame] = []
        if kind == "ipv4":
            numbered = base.with_columns(_ip4_int(pl.col("value")).alias("_n")).drop_nulls("_n")
            if "ipv4" in self.exact:
                out.append(numbered.join(self.exact["ipv4"], left_on="_n", right_on="_v"))
            for prefix, nets in self.v4_nets.items():
                mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
                masked = numbered.with_columns((pl.col("_n") & mask).alias("_m"))
                out.append(masked.join(nets, left_on="_m", right_on="_v"))
        elif kind == "ipv6" and self.v6_nets:
            out.append(self._v6(base))
        elif kind == "domain" and "domain" in self.exact:
            names = base.with_columns(pl.col("value").str.to_lowercase().str.strip_chars_end("."))
            suffixes = names.with_columns(
                pl.col("value").str.split(".").alias("_labels")
            ).with_columns(
                pl.int_ranges(0, pl.col("_labels").list.len().clip(upper_bound=_MAX_LABELS))
                .alias("_k")
            ).explode("_k").with_columns(
                pl.col("_labels").list.slice(pl.col("_k")).list.join(".").alias("_s")
            )  # fmt: skip
            out.append(suffixes.join(self.exact["domain"], left_on="_s", right_on="_v"))
        elif kind == "port" and "port" in self.exact:
            ports = base.with_columns(pl.col("value").cast(pl.Int64, strict=False).alias("_p"))
            out.append(ports.join(self.exact["port"], left_on="_p", right_on="_v"))
        elif kind in self.exact:
            key = pl.col("value") if kind == "url" else pl.col("value").str.to_lowercase()
            keyed = base.with_columns(key.alias("_k"))
            out.append(keyed.join(self.exact[kind], left_on="_k", right_on="_v"))
        return [
            f.select("event_index", "indicator", pl.lit(column).alias("field"), "value")
            for f in out
            if f.height
        ]

    def _match_pair(
        self, frame: pl.DataFrame, kind: str, address: str, port: str
    ) -> list[pl.DataFrame]:
        if kind not in self.v4_pairs and kind not in self.v6_pairs:
            return []
        base = frame.select(
            "event_index",
            pl.col(address).cast(pl.String).alias("value"),
            pl.col(port).cast(pl.Int64, strict=False).alias("_p"),
        ).drop_nulls()
        out: list[pl.DataFrame] = []
        numbered = base.with_columns(_ip4_int(pl.col("value")).alias("_n")).drop_nulls("_n")
        for prefix, nets in self.v4_pairs.get(kind, {}).items():
            mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
            masked = numbered.with_columns((pl.col("_n") & mask).alias("_m"))
            out.append(masked.join(nets, left_on=["_m", "_p"], right_on=["_v", "_p"]))
        if kind in self.v6_pairs:
            rows: list[tuple[str, int, str]] = []
            for value, number in base.select("value", "_p").unique().iter_rows():
                try:
                    ip = ipaddress.ip_address(value)
                except ValueError:
                    continue
                rows.extend(
                    (value, number, ind)
                    for net, p, ind in self.v6_pairs[kind]
                    if p == number and ip.version == 6 and ip in net
                )
            hits = pl.DataFrame(rows, schema={"value": pl.String, "_p": pl.Int64,
                                              "indicator": pl.String}, orient="row")  # fmt: skip
            out.append(base.join(hits, on=["value", "_p"]))
        label = f"{address}+{port}"
        return [
            f.select(
                "event_index", "indicator", pl.lit(label).alias("field"),
                pl.when(pl.col("value").str.contains(":", literal=True))
                .then(pl.format("[{}]:{}", "value", "_p"))
                .otherwise(pl.format("{}:{}", "value", "_p"))
                .alias("value"),
            )
            for f in out
            if f.height
        ]  # fmt: skip

    def _v6(self, base: pl.DataFrame) -> pl.DataFrame:
        rows: list[tuple[str, str]] = []
        for value in base.get_column("value").unique().to_list():
            try:
                ip = ipaddress.ip_address(value)
            except ValueError:
                continue
            if ip.version == 6:
                rows.extend((value, ind) for net, ind in self.v6_nets if ip in net)
        hits = pl.DataFrame(rows, schema={"value": pl.String, "indicator": pl.String},
                            orient="row")  # fmt: skip
        return base.join(hits, on="value")
