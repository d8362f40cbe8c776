"""Evaluate a segmentation policy over flows (Zeek conn, NetFlow) as joins.

Flows take their zones from `ZoneMap.assign`; the distinct (source zone, destination zone,
protocol, port) combinations, far fewer than flows, are matched against the expanded rules in
one join, the first matching rule (lowest index) wins, and the verdict is joined back.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import polars as pl

from civicshield.detect.segmentation.policy import Policy
from civicshield.detect.segmentation.zones import ZoneMap

__all__ = ["VERDICT_COLUMNS", "Evaluator"]

SRC, DST = "source.zone", "destination.zone"
RULE, ACTION, REASON, SEVERITY = (
    "segmentation.rule", "segmentation.action", "segmentation.reason", "segmentation.severity",
)  # fmt: skip
VERDICT_COLUMNS = (SRC, DST, RULE, ACTION, REASON, SEVERITY)
INTRA, DEFAULT = "(intra-zone)", "(default)"


@dataclass(frozen=True)
class Evaluator:
    policy: Policy

    @cached_property
    def zones(self) -> ZoneMap:
        return ZoneMap(self.policy)

    @cached_property
    def rules(self) -> pl.DataFrame:
        """One row per rule × from zone × to zone × protocol × port range (null = any)."""
        rows: list[dict[str, object]] = []
        for index, rule in enumerate(self.policy.rules):
            for src in rule.from_zones or (None,):
                for dst in rule.to_zones or (None,):
                    for proto in rule.protocols or (None,):
                        for lo, hi in rule.port_ranges():
                            rows.append({"_idx": index, "_src": src, "_dst": dst,
                                         "_rproto": proto, "_lo": lo, "_hi": hi})  # fmt: skip
        schema = {"_idx": pl.Int64, "_src": pl.String, "_dst": pl.String, "_rproto": pl.String,
                  "_lo": pl.Int64, "_hi": pl.Int64}  # fmt: skip
        return pl.DataFrame(rows, schema=schema)

    def evaluate(self, flows: pl.DataFrame) -> pl.DataFrame:
        """`flows` (`source.ip`, `destination.ip`, `network.transport`, `destination.port`)
        with the verdict columns of `VERDICT_COLUMNS` added."""
        frame = self.zones.assign(flows, "source.ip", SRC)
        frame = self.zones.assign(frame, "destination.ip", DST)
        frame = frame.with_columns(
            pl.col("network.transport").cast(pl.String).str.to_lowercase().alias("_proto"),
            pl.col("destination.port").cast(pl.Int64, strict=False).alias("_port"),
        )
        keys = frame.select(SRC, DST, "_proto", "_port").unique()
        verdicts = self._decide(keys)
        out = frame.join(
            verdicts, on=[SRC, DST, "_proto", "_port"], how="left", nulls_equal=True,
            maintain_order="left",
        )  # fmt: skip
        return out.drop("_proto", "_port")

    def violations(self, flows: pl.DataFrame) -> pl.DataFrame:
        return self.evaluate(flows).filter(pl.col(ACTION) == "deny")

    def _decide(self, keys: pl.DataFrame) -> pl.DataFrame:
        p = self.policy
        inter = keys.filter(pl.col(SRC) != pl.col(DST))
        candidates = (
            inter.join(self.rules, how="cross").filter(
                (pl.col("_src").is_null() | (pl.col("_src") == pl.col(SRC)))
                & (pl.col("_dst").is_null() | (pl.col("_dst") == pl.col(DST)))
                & (pl.col("_rproto").is_null() | (pl.col("_rproto") == pl.col("_proto")))
                & (
                    (pl.col("_lo") == 0) & (pl.col("_hi") == 65535)
                    | pl.col("_port").is_between(pl.col("_lo"), pl.col("_hi"))
                )
            )
            if self.rules.height
            else inter.with_columns(pl.lit(None, pl.Int64).alias("_idx"))
        )
        first = candidates.group_by(SRC, DST, "_proto", "_port").agg(pl.col("_idx").min())
        meta = pl.DataFrame(
            {"_idx": list(range(len(p.rules))), RULE: [r.id for r in p.rules],
             ACTION: [r.action for r in p.rules], REASON: [r.reason for r in p.rules],
             SEVERITY: [r.severity for r in p.rules]},
            schema={"_idx": pl.Int64, RULE: pl.String, ACTION: pl.String, REASON: pl.String,
                    SEVERITY: pl.String},
        )  # fmt: skip
        decided = keys.join(
            first, on=[SRC, DST, "_proto", "_port"], how="left", nulls_equal=True
        ).join(meta, on="_idx", how="left")
        intra = pl.col(SRC) == pl.col(DST)
        unknown = pl.col(SRC).is_null() | pl.col(DST).is_null()
        decided = decided.filter(~unknown)
        return decided.select(
            SRC, DST, "_proto", "_port",
            pl.when(intra).then(pl.lit(INTRA)).otherwise(pl.col(RULE).fill_null(DEFAULT))
            .alias(RULE),
            pl.when(intra).then(pl.lit(p.intra_zone)).otherwise(pl.col(ACTION).fill_null(p.default))
            .alias(ACTION),
            pl.when(intra).then(pl.lit("traffic within one zone"))
            .otherwise(pl.col(REASON).fill_null("no rule allows this flow between zones"))
            .alias(REASON),
            pl.col(SEVERITY).fill_null(p.default_severity).alias(SEVERITY),
        )  # fmt: skip
