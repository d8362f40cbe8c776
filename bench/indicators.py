"""Indicator matching: does a million indicators cost no more per event than a thousand?

Builds two indicator sets (1,000 and 1,000,000: IPv4 hosts, IPv4 networks of four prefix
lengths, domains), plants the same 50 hits in both, and times `IndicatorIndex.match` over the
same 200,000 synthetic flow+DNS events (median of 3 runs, one core). Also times compiling STIX
patterns (`compile_pattern`), which happens once per indicator at import, never at match time.
Writes its section of docs/benchmarks.md.

    taskset -c 0 env POLARS_MAX_THREADS=1 .venv/bin/python bench/indicators.py
"""

from __future__ import annotations

import ipaddress
import random
import statistics
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _report import cpu_name, write_section

from civicshield.detect.indicators import IndicatorIndex, Lookup, compile_pattern

EVENTS = 200_000
PLANTED = 50


def events(rng: random.Random) -> pl.DataFrame:
    def ip(prefix: str) -> str:
        return f"{prefix}.{rng.randrange(256)}.{rng.randrange(1, 255)}"

    src = [ip(f"10.{rng.randrange(10, 90)}") for _ in range(EVENTS)]
    dst = [ip("198.18") for _ in range(EVENTS)]
    names = [f"host{rng.randrange(5000)}.benign{rng.randrange(300)}.example" for _ in range(EVENTS)]
    for i in range(PLANTED):  # the same hits in every indicator set
        dst[i * 997] = f"192.0.2.{i + 1}"
        names[i * 991 + 1] = f"c{i}.evil{i}.example"
    ports = [rng.choice((53, 80, 443, 23)) for _ in range(EVENTS)]
    return pl.DataFrame(
        {"source.ip": src, "destination.ip": dst, "dns.question.name": names,
         "destination.port": ports}
    )  # fmt: skip


def indicators(n: int, rng: random.Random) -> list[tuple[str, list[Lookup]]]:
    items: list[tuple[str, list[Lookup]]] = [
        (f"hit{i}", [Lookup("ipv4", f"192.0.2.{i + 1}/32"), Lookup("domain", f"evil{i}.example")])
        for i in range(PLANTED)
    ]
    for k in range(n - PLANTED):  # in 100.64.0.0/10 and .bad.example: no event touches them
        kind = k % 10
        if kind < 7:
            value = f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.{rng.randrange(256)}/32"
            items.append((f"i{k}", [Lookup("ipv4", value)]))
        elif kind == 7:
            prefix = (16, 20, 24, 28)[k % 4]
            base = f"100.{rng.randrange(64, 128)}.{rng.randrange(256)}.0/{prefix}"
            net = ipaddress.ip_network(base, strict=False)
            items.append((f"i{k}", [Lookup("ipv4", str(net))]))
        else:
            items.append((f"i{k}", [Lookup("domain", f"d{k}.bad.example")]))
    return items


def timed(index: IndicatorIndex, frame: pl.DataFrame) -> tuple[float, int]:
    runs = []
    hits = 0
    for _ in range(3):
        start = time.perf_counter()
        hits = index.match(frame).height
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), hits


def main() -> None:
    rng = random.Random(11)
    frame = events(rng)
    rows = []
    figures: dict[str, object] = {"events": EVENTS}
    for n in (1_000, 1_000_000):
        items = indicators(n, random.Random(n))
        start = time.perf_counter()
        index = IndicatorIndex.build(items)
        build = time.perf_counter() - start
        seconds, hits = timed(index, frame)
        rows.append((n, build, seconds, EVENTS / seconds, hits))
        figures[f"{n}"] = {
            "build_s": build, "match_s": seconds, "events_per_s": EVENTS / seconds, "hits": hits
        }  # fmt: skip
        print(f"{n:>9,} indicators: build {build:6.2f} s, match {seconds:6.3f} s "
              f"({EVENTS / seconds:,.0f} events/s), {hits} hits")  # fmt: skip
    ratio = rows[1][2] / rows[0][2]
    patterns = [f"[ipv4-addr:value = '100.{i % 64 + 64}.{i % 256}.{i % 251}']" for i in range(5000)]
    patterns += [
        f"[domain-name:value = 'd{i}.bad.example' OR url:value = 'http://d{i}.bad.example/x']"
        for i in range(5000)
    ]
    start = time.perf_counter()
    for p in patterns:
        compile_pattern(p)
    per_pattern_us = (time.perf_counter() - start) / len(patterns) * 1e6
    figures.update({"ratio_1m_over_1k": ratio, "compile_us_per_pattern": per_pattern_us})
    print(f"match time 1M ÷ 1k: {ratio:.2f}; compile_pattern: {per_pattern_us:.1f} µs each")
    table = "\n".join(
        f"| {n:,} | {b:.2f} | {s:.3f} | {eps:,.0f} | {h} |" for n, b, s, eps, h in rows
    )
    body = f"""`IndicatorIndex.match` over {EVENTS:,} synthetic flow + DNS events (source,
destination, DNS name, port), median of 3 runs, after building the index; the same {PLANTED}
hits are planted in both sets (each a host address and a domain matched through a
subdomain), the rest of the indicators are IPv4 hosts (70 %), IPv4 networks of /16, /20,
/24 and /28 (10 %) and domains (20 %) no event touches. CPU: {cpu_name()}.

| Indicators | Build (s) | Match (s) | Events/s | Hits |
|---:|---:|---:|---:|---:|
{table}

**1,000,000 ÷ 1,000 indicators: {ratio:.2f}× the match time** (the claim: about 1×, since
matching is hash joins and one join per IPv4 prefix length, not a scan of the indicators).
Compiling a STIX pattern (once, at import): {per_pattern_us:.1f} µs on average over
{len(patterns):,} single and two-comparison patterns (our own regex tokeniser, no ANTLR; the
research note measured ~200 µs per pattern with the ANTLR-based `stix2-patterns` parser)."""
    write_section("indicators", body, figures)


if __name__ == "__main__":
    main()
