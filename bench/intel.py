"""Threat-intelligence matching and import at city scale (issue 8).

Matching: 1,000,000 indicators (IPv4 hosts, IPv4 networks of /16, /20, /24 and /28, domains
matched with their subdomains, URLs, MD5 and SHA-256 hashes) against 1,000,000 Zeek-shaped
events (conn, DNS, HTTP and files, with the ECS columns the readers add), in a child process
pinned with `taskset -c 0` and `POLARS_MAX_THREADS=1`: index build, match (median of 3),
events/s, CPU seconds and the child's peak RSS. Next to it, in the same child: a naive loop
over every indicator for each of a random sample of events (>= 1,000), extrapolated to all
events and labelled so (its hits must equal the index's on the sample); the same events
against 1,000 indicators (the old 1k-vs-1M ratio); `compile_pattern` per pattern.

Import: indicators/s of `intel.import_stix` (one generated bundle) and of
`intel.import_misp_feed` (a generated feed directory: manifest.json + event files), each in a
fresh SQLite data dir under a temporary directory, in a second pinned child.

    .venv/bin/python bench/intel.py            # about 5 minutes on the 2-core machine
    .venv/bin/python bench/intel.py --quick    # 100,000 events and indicators (smoke test)

Prints its figures and writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _report import cpu_name, write_section

TARGET_EVENTS_PER_S = 500_000
TARGET_RSS_MIB = 2048

# ---- the match child -------------------------------------------------------------------

PLANTED = 200  # hits planted in both indicator sets: 40 of each kind group


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _planted() -> list[tuple[str, Any]]:
    """(indicator id, lookups) every indicator set starts with; the events carry them."""
    from civicshield.detect.indicators import Lookup

    out: list[tuple[str, Any]] = []
    for i in range(PLANTED // 5):
        out.append((f"hit-ip{i}", (Lookup("ipv4", f"192.0.2.{i + 1}/32"),)))
        out.append((f"hit-net{i}", (Lookup("ipv4", f"198.51.{i}.0/24"),)))
        out.append((f"hit-dom{i}", (Lookup("domain", f"evil{i}.example"),)))
        out.append((f"hit-url{i}", (Lookup("url", f"http://evil{i}.example/bins/x.arm7"),)))
        out.append((f"hit-hash{i}", (Lookup("sha256", _sha256(f"malware{i}")),)))
    return out


def _indicators(n: int, rng: random.Random) -> tuple[list[tuple[str, Any]], dict[str, int]]:
    from civicshield.detect.indicators import Lookup

    items = _planted()
    kinds = {"ipv4 host": 0, "ipv4 network": 0, "domain": 0, "url": 0, "md5": 0, "sha256": 0}
    for k in range(n - len(items)):  # in 100.64.0.0/10 and .bad.example: no event has them
        slot = k % 20
        a, b, c = rng.randrange(64, 128), rng.randrange(256), rng.randrange(256)
        if slot < 8:
            items.append((f"i{k}", (Lookup("ipv4", f"100.{a}.{b}.{c}/32"),)))
            kinds["ipv4 host"] += 1
        elif slot == 8:
            prefix = (16, 20, 24, 28)[k % 4]
            net = (((a << 16) | (b << 8) | c) >> (24 - (prefix - 8))) << (24 - (prefix - 8))
            text = f"100.{net >> 16 & 255}.{net >> 8 & 255}.{net & 255}/{prefix}"
            items.append((f"i{k}", (Lookup("ipv4", text),)))
            kinds["ipv4 network"] += 1
        elif slot < 13:
            items.append((f"i{k}", (Lookup("domain", f"d{k}.bad.example"),)))
            kinds["domain"] += 1
        elif slot < 16:
            items.append((f"i{k}", (Lookup("url", f"http://d{k}.bad.example/p/{c}"),)))
            kinds["url"] += 1
        elif slot < 18:
            items.append((f"i{k}", (Lookup("md5", _md5(f"bad{k}")),)))
            kinds["md5"] += 1
        else:
            items.append((f"i{k}", (Lookup("sha256", _sha256(f"bad{k}")),)))
            kinds["sha256"] += 1
    for name, group in (
        ("ipv4 host", "hit-ip"),
        ("ipv4 network", "hit-net"),
        ("domain", "hit-dom"),
        ("url", "hit-url"),
        ("sha256", "hit-hash"),
    ):
        kinds[name] += sum(1 for ident, _ in items[:PLANTED] if ident.startswith(group))
    return items, kinds


def _events(n: int, rng: random.Random) -> tuple[pl.DataFrame, dict[str, int]]:
    """Zeek conn (50 %), dns (30 %), http (10 %) and files (10 %) rows with ECS columns."""
    counts = {"conn": n // 2, "dns": n * 3 // 10, "http": n // 10}
    counts["files"] = n - sum(counts.values())
    rows = n
    ip = [
        f"10.{rng.randrange(10, 90)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        for _ in range(rows)
    ]
    dst = [f"198.18.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(rows)]
    names = [f"host{rng.randrange(5000)}.benign{rng.randrange(300)}.example" for _ in range(rows)]
    dataset = ["conn"] * counts["conn"] + ["dns"] * counts["dns"] + ["http"] * counts["http"]
    dataset += ["files"] * counts["files"]
    rng.shuffle(dataset)
    hashes = [_sha256(f"file{i}") if dataset[i] == "files" else None for i in range(rows)]
    for j in range(PLANTED // 5):  # plant the hits at spread-out rows of the right dataset
        for want, fill in (
            ("conn", lambda i, j=j: dst.__setitem__(i, f"192.0.2.{j + 1}")),
            ("conn", lambda i, j=j: dst.__setitem__(i, f"198.51.{j}.{7 + j}")),
            ("dns", lambda i, j=j: names.__setitem__(i, f"c2.evil{j}.example")),
            ("http", lambda i, j=j: names.__setitem__(i, f"evil{j}.example")),
            ("files", lambda i, j=j: hashes.__setitem__(i, _sha256(f"malware{j}"))),
        ):
            i = rng.randrange(rows)
            while dataset[i] != want:
                i = rng.randrange(rows)
            fill(i)
    frame = pl.DataFrame(
        {
            "uid": [f"C{i:012d}" for i in range(rows)],
            "@timestamp": pl.datetime_range(
                pl.datetime(2026, 11, 1),
                pl.datetime(2026, 11, 1) + pl.duration(seconds=rows - 1),
                "1s",
                eager=True,
            ),
            "event.dataset": [f"zeek.{d}" for d in dataset],
            "source.ip": ip,
            "destination.ip": dst,
            "source.port": [rng.randrange(1024, 65536) for _ in range(rows)],
            "destination.port": [rng.choice((53, 80, 443, 23, 8080)) for _ in range(rows)],
            "dns.question.name": [
                m if d == "dns" else None for m, d in zip(names, dataset, strict=True)
            ],
            "url.domain": [m if d == "http" else None for m, d in zip(names, dataset, strict=True)],
            "file.hash.sha256": hashes,
        }
    )
    url = pl.when(pl.col("event.dataset") == "zeek.http").then(
        pl.format("http://{}/bins/x.arm7", pl.col("url.domain"))
    )
    return frame.with_columns(url.alias("url.full")), counts


def _naive(
    items: list[tuple[str, Any]], sample: pl.DataFrame
) -> tuple[float, set[tuple[int, str]]]:
    """Every indicator tried against every sampled event (of the kinds it has columns for)."""
    import ipaddress

    hosts, nets, doms, urls, hashes = [], [], [], [], []
    for ident, lookups in items:
        for lk in lookups:
            if lk.kind == "ipv4":
                net = ipaddress.IPv4Network(lk.value)
                if net.prefixlen == 32:
                    hosts.append((int(net.network_address), ident))
                else:
                    nets.append((int(net.network_address), int(net.netmask), ident))
            elif lk.kind == "domain":
                doms.append((lk.value, "." + lk.value, ident))
            elif lk.kind == "url":
                urls.append((lk.value, ident))
            else:
                hashes.append((lk.value, ident))
    hits: set[tuple[int, str]] = set()
    start = time.process_time()
    for row in sample.iter_rows(named=True):
        e = row["_row"]
        s = int(ipaddress.IPv4Address(row["source.ip"]))
        d = int(ipaddress.IPv4Address(row["destination.ip"]))
        for value, ident in hosts:
            if value in (s, d):
                hits.add((e, ident))
        for value, mask, ident in nets:
            if s & mask == value or d & mask == value:
                hits.add((e, ident))
        for name in (row["dns.question.name"], row["url.domain"]):
            if name:
                for dom, dotted, ident in doms:
                    if name == dom or name.endswith(dotted):
                        hits.add((e, ident))
        if row["url.full"]:
            for value, ident in urls:
                if row["url.full"] == value:
                    hits.add((e, ident))
        if row["file.hash.sha256"]:
            for value, ident in hashes:
                if row["file.hash.sha256"] == value:
                    hits.add((e, ident))
    return time.process_time() - start, hits


def _median_match(index: Any, frame: pl.DataFrame) -> tuple[float, float, int]:
    walls, cpus, hits = [], [], 0
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        hits = index.match(frame).height
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), hits


def _compile_cost(n: int, rng: random.Random) -> float:
    from civicshield.detect.indicators import compile_pattern

    patterns = []
    for i in range(n):
        slot = i % 5
        if slot == 0:
            patterns.append(f"[ipv4-addr:value = '100.{i % 64 + 64}.{i % 256}.{i % 251}']")
        elif slot == 1:
            patterns.append(f"[ipv4-addr:value ISSUBSET '100.{i % 64 + 64}.{i % 256}.0/24']")
        elif slot == 2:
            patterns.append(
                f"[domain-name:value = 'd{i}.bad.example' OR "
                f"url:value = 'http://d{i}.bad.example/x']"
            )
        elif slot == 3:
            patterns.append(f"[file:hashes.'SHA-256' = '{_sha256(str(rng.random()))}']")
        else:
            patterns.append(
                f"[network-traffic:dst_ref.value = '100.64.{i % 256}.9' AND "
                f"network-traffic:dst_port = {i % 65535}]"
            )
    start = time.process_time()
    for p in patterns:
        compile_pattern(p)
    return (time.process_time() - start) / n * 1e6


def run_match(args: argparse.Namespace) -> dict[str, Any]:
    import gc

    from civicshield.detect.indicators import IndicatorIndex

    rng = random.Random(8)
    frame, datasets = _events(args.events, rng)
    items, kinds = _indicators(args.indicators, random.Random(args.indicators))
    gc.collect()
    start = time.perf_counter()
    index = IndicatorIndex.build(items)
    build = time.perf_counter() - start
    match_s, match_cpu, hits = _median_match(index, frame)
    small = IndicatorIndex.build(items[:1_000])
    match_1k, _, hits_1k = _median_match(small, frame)
    sample_rows = sorted(rng.sample(range(frame.height), args.sample))
    matched = index.match(frame)  # the sample gets some planted hits, so agreement means much
    sample_rows = sorted(set(sample_rows) | set(matched.get_column("event_index").to_list()[:50]))
    sample = frame.with_row_index("_row").filter(pl.col("_row").is_in(sample_rows))
    naive_s, naive_hits = _naive(items, sample)
    wanted = set(sample_rows)
    ours = {
        (int(e), str(i))
        for e, i in matched.select("event_index", "indicator").iter_rows()
        if e in wanted
    }
    return {
        "events": frame.height,
        "indicators": len(items),
        "planted": PLANTED,
        "indicator_kinds": kinds,
        "datasets": datasets,
        "build_s": build,
        "match_s": match_s,
        "match_cpu_s": match_cpu,
        "hits": hits,
        "match_1k_s": match_1k,
        "hits_1k": hits_1k,
        "sample": len(sample_rows),
        "naive_sample_s": naive_s,
        "naive_extrapolated_s": naive_s / len(sample_rows) * frame.height,
        "naive_agrees": ours == naive_hits,
        "naive_sample_hits": len(naive_hits),
        "compile_n": 50_000,
        "compile_us": _compile_cost(50_000, rng),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# ---- the import child ------------------------------------------------------------------


def _stix_bundle(n: int) -> dict[str, Any]:
    objects = []
    for i in range(n):
        if i % 3 == 0:
            pattern = f"[ipv4-addr:value = '100.{64 + i % 64}.{i // 256 % 256}.{i % 256}']"
        elif i % 3 == 1:
            pattern = f"[domain-name:value = 's{i}.bad.example']"
        else:
            pattern = f"[file:hashes.'SHA-256' = '{_sha256(f's{i}')}']"
        objects.append(
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{_uuid(f'stix{i}')}",
                "created": "2026-11-01T00:00:00.000Z",
                "modified": "2026-11-01T00:00:00.000Z",
                "name": f"bench {i}",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00Z",
                "indicator_types": ["malicious-activity"],
                "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
            }
        )
    return {"type": "bundle", "id": f"bundle--{_uuid('bench')}", "objects": objects}


def _uuid(text: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, text))


def _misp_feed(folder: Path, n: int, per_event: int) -> int:
    manifest = {}
    events = max(1, n // per_event)
    for e in range(events):
        uid = _uuid(f"event{e}")
        attrs = []
        for a in range(per_event):
            k = e * per_event + a
            kind, value = (
                ("ip-dst", f"100.{64 + k % 64}.{k // 256 % 256}.{k % 256}")
                if k % 3 == 0
                else ("domain", f"m{k}.bad.example")
                if k % 3 == 1
                else ("sha256", _sha256(f"m{k}"))
            )
            attrs.append(
                {
                    "uuid": _uuid(f"attr{k}"),
                    "type": kind,
                    "value": value,
                    "category": "Network activity",
                    "to_ids": True,
                    "timestamp": "1793491200",
                    "distribution": "5",
                }
            )
        event = {
            "Event": {
                "uuid": uid,
                "info": f"bench event {e}",
                "date": "2026-11-01",
                "timestamp": "1793491200",
                "distribution": "1",
                "analysis": "2",
                "threat_level_id": "2",
                "Orgc": {"name": "Bench City", "uuid": _uuid("org")},
                "Tag": [{"name": "tlp:green"}],
                "Attribute": attrs,
            }
        }
        (folder / f"{uid}.json").write_text(json.dumps(event), encoding="utf-8")
        manifest[uid] = {
            "info": f"bench event {e}",
            "timestamp": "1793491200",
            "Orgc": event["Event"]["Orgc"],
            "Tag": [{"name": "tlp:green"}],
        }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return events


def run_import(args: argparse.Namespace) -> dict[str, Any]:
    from civicshield import intel
    from civicshield.core import SYSTEM, load_settings
    from civicshield.migrations import upgrade
    from civicshield.runtime import build_runtime

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-intel-") as tmp:
        for kind in ("stix", "misp"):
            settings = load_settings(
                environment="test",
                data_dir=Path(tmp) / kind,
                secret_key=secrets.token_hex(32),
                worker_in_process=False,
            )
            settings.data_dir.mkdir(parents=True)
            upgrade(settings.resolved_database_url)
            rt = build_runtime(settings)
            try:
                if kind == "stix":
                    bundle = _stix_bundle(args.import_n)
                    start = time.perf_counter()
                    with rt.session() as session:
                        report = intel.import_stix(
                            session, bundle, location="bench.json", actor=SYSTEM, clock=rt.clock
                        )
                    out["stix_s"], out["stix_n"] = time.perf_counter() - start, report.new
                else:
                    feed = Path(tmp) / "feed"
                    feed.mkdir()
                    out["misp_events"] = _misp_feed(feed, args.import_n, 500)
                    start = time.perf_counter()
                    with rt.session() as session:
                        report = intel.import_misp_feed(
                            session, str(feed), actor=SYSTEM, clock=rt.clock
                        )
                    out["misp_s"] = time.perf_counter() - start
                    out["misp_n"] = report.new
                    start = time.perf_counter()
                    with rt.session() as session:
                        intel.import_misp_feed(session, str(feed), actor=SYSTEM, clock=rt.clock)
                    out["misp_again_s"] = time.perf_counter() - start
            finally:
                rt.close()
    return out


# ---- the parent ------------------------------------------------------------------------


def _child(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one measurement pinned to core 0 and return what it printed as JSON."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            "taskset",
            "-c",
            "0",
            "env",
            "POLARS_MAX_THREADS=1",
            sys.executable,
            __file__,
            "--child",
            kind,
            "--out",
            out.name,
            "--events",
            str(args.events),
            "--indicators",
            str(args.indicators),
            "--sample",
            str(args.sample),
            "--import-n",
            str(args.import_n),
        ]
        subprocess.run(command, check=True)
        result: dict[str, Any] = json.loads(Path(out.name).read_text(encoding="utf-8"))
        return result


def _report(m: dict[str, Any], imp: dict[str, Any], loads: list[float]) -> None:
    eps = m["events"] / m["match_s"]
    naive_eps = m["events"] / m["naive_extrapolated_s"]
    ok_speed = "met" if eps >= TARGET_EVENTS_PER_S else "NOT met"
    ok_rss = "met" if m["peak_rss_mib"] < TARGET_RSS_MIB else "NOT met"
    kinds = ", ".join(f"{k} {v:,}" for k, v in m["indicator_kinds"].items())
    datasets = ", ".join(f"{k} {v:,}" for k, v in m["datasets"].items())
    naive_s = m["naive_sample_s"]
    stix = f"{imp['stix_n']:,} | {imp['stix_s']:.2f} | {imp['stix_n'] / imp['stix_s']:,.0f}"
    misp = f"{imp['misp_n']:,} | {imp['misp_s']:.2f} | {imp['misp_n'] / imp['misp_s']:,.0f}"
    body = f"""Issue 8's target: {m["indicators"]:,} indicators against {m["events"]:,} Zeek
events on one core (`taskset -c 0`, `POLARS_MAX_THREADS=1`, a child process) at ≥ 500,000
events/s in under 2 GiB. Indicators: {kinds}; {m["planted"]} of them are planted hits (hosts,
networks, parent domains of event names, URLs, hashes), the rest no event touches. Events
(ECS columns of the Zeek reader, distinct `uid` and timestamps): {datasets}. Load average
(1 min) {loads[0]:.1f} at the start and {loads[1]:.1f} at the end: other sessions' test runs
shared the 2-core machine, so absolute figures are pessimistic. CPU: {cpu_name()}.

| Measure | Value |
|---|---:|
| Index build, 1,000,000 indicators (s) | {m["build_s"]:.2f} |
| Match 1,000,000 events (s, median of 3; CPU s {m["match_cpu_s"]:.2f}) | {m["match_s"]:.3f} |
| **Events/s (target ≥ 500,000: {ok_speed})** | **{eps:,.0f}** |
| **Peak RSS of the child (MiB; target < 2,048: {ok_rss})** | **{m["peak_rss_mib"]:,.0f}** |
| Match rows (event × indicator × field) | {m["hits"]:,} |
| Same events, 1,000 indicators (s) | {m["match_1k_s"]:.3f} |
| Match time 1,000,000 ÷ 1,000 indicators | {m["match_s"] / m["match_1k_s"]:.2f}× |
| Naive loop: {m["sample"]:,} sampled events × all indicators (s) | {naive_s:.1f} |
| Naive loop **extrapolated** to {m["events"]:,} events (s) | {m["naive_extrapolated_s"]:,.0f} |
| Naive events/s (extrapolated) | {naive_eps:,.0f} |
| Index ÷ naive speed-up | {m["naive_extrapolated_s"] / m["match_s"]:,.0f}× |
| Naive and index hits agree on the sample | {m["naive_agrees"]} ({m["naive_sample_hits"]} hits) |
| `compile_pattern` (µs per pattern, {m["compile_n"]:,} mixed patterns) | {m["compile_us"]:.1f} |

The naive anchor loops, for each sampled event, over every indicator of the kinds the event
has a column for (integer compares for addresses and masks, `==`/`endswith` for domains,
string equality for URLs and hashes); it is measured on the sample in the same child and
**extrapolated** linearly to all events.

Import throughput (a fresh SQLite data dir each, pinned child, all checks on: bundle
validation, pattern compiling, warninglist look-ups, versions, provenance, audit):

| Import | Objects stored | Seconds | Objects/s |
|---|---:|---:|---:|
| STIX 2.1 bundle (`intel.import_stix`) | {stix} |
| MISP feed, {imp["misp_events"]} events (`intel.import_misp_feed`) | {misp} |
| The same MISP feed again (manifest unchanged: nothing read) | 0 | {imp["misp_again_s"]:.2f} | — |
"""
    figures = {"match": m, "import": imp, "load_average": loads, "events_per_s": eps}
    print(body)
    write_section("intel", body, figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--indicators", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=1_000)
    parser.add_argument("--import-n", type=int, default=20_000)
    parser.add_argument("--child", choices=("match", "import"))
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        result = run_match(args) if args.child == "match" else run_import(args)
        Path(args.out).write_text(json.dumps(result), encoding="utf-8")
        return
    if args.quick:
        args.events, args.indicators, args.import_n = 100_000, 100_000, 2_000
    start_load = os.getloadavg()[0]
    print(f"load average (1 min) at start: {start_load:.2f}", flush=True)
    match = _child("match", args)
    imports = _child("import", args)
    end_load = os.getloadavg()[0]
    if args.quick:
        print(json.dumps({"match": match, "import": imports}, indent=2))
        return
    _report(match, imports, [start_load, end_load])


if __name__ == "__main__":
    main()
