"""Whole-process speed and memory of `civicshield detect`, beside a SQLite-per-rule anchor.

Our engine runs as users run it, pinned to one core:
`taskset -c 0 env POLARS_MAX_THREADS=1 civicshield detect FILE --rules DIR --format jsonl
--output F` over the SigmaHQ `rules/windows` tree, on 1x, 20x and 100x the shared
EVTX-ATTACK-SAMPLES events (copies get distinct EventRecordID, SystemTime and GUIDs). Also
measured: the cold compile (`--no-cache`, one event) and the warm start-up (warm cache, one
event). Anchor, in the same run and on the same core: Zircolite's design (pySigma 1.5.1 +
pysigma-backend-sqlite 2.0.0 with the sysmon and windows-logsources pipelines, every rule one
SQL query over an in-memory table of `TEXT COLLATE NOCASE` columns), run by
bench/detect_anchor.py in its own venv; its figure counts only if it reproduces
`zircolite_reference.json` on the 1x file. Also timed, for the larger files: Polars'
`read_ndjson` alone given the fields the rules read (the JSON parse any Polars-based reader
pays: a ceiling on the end-to-end throughput).

Usage: .venv/bin/python bench/detect.py [--quick]   (--quick: 1x and 20x only)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write_section

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
EVENTS = SHARED / "logs" / "evtx-attack-samples" / "events.jsonl"
REFERENCE = EVENTS.with_name("zircolite_reference.json")
RULES = SHARED / "sigma" / "rules" / "windows"
WORK = ROOT / "var" / "bench" / "detect"  # git-ignored (var/)
ANCHOR_VENV = ROOT / "var" / "bench" / "anchor-venv"
ANCHOR_PINS = [
    "pySigma==1.5.1",
    "pysigma-backend-sqlite==2.0.0",
    "pysigma-pipeline-sysmon==2.0.0",
    "pysigma-pipeline-windows==2.0.1",
]
ANCHOR_SCRIPT = Path(__file__).resolve().with_name("detect_anchor.py")
CLI = ROOT / ".venv" / "bin" / "civicshield"
PIN = ["taskset", "-c", "0"]
TIME = "/usr/bin/time"
COPIES_VERSION = 1  # bump when the copy transformation changes: regenerates the files

TARGET_RATIO = 100.0
TARGET_EVENTS_PER_S = 100_000.0
TARGET_WARM_S = 0.5
TARGET_COLD_S = 20.0
FLAT_RSS_GROWTH = 1.2  # "flat": 100x peak RSS at most 20 % above 20x

GUID = re.compile(
    r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-([0-9A-Fa-f]{12})\}?"
)
# GUID-shaped values that name a class of thing rather than one instance (the event
# provider, an audit subcategory, an RPC interface, a registry value's data): rules test
# them, so copies keep them and match exactly as the original does.
KEEP_GUID_FIELDS = frozenset({"Guid", "SubcategoryGuid", "InterfaceUuid", "Details"})


# ---------------------------------------------------------------- scaled inputs


def _shift_guid(value: str, k: int) -> str:
    match = GUID.fullmatch(value)
    if match is None:
        return value
    tail = match.group(1)
    shifted = f"{(int(tail, 16) + k) % (1 << 48):012x}"
    if tail.upper() == tail:
        shifted = shifted.upper()
    return value[: match.start(1)] + shifted + value[match.end(1) :]


def _shift_time(value: str, k: int) -> str:
    # Shift the whole-second part only; the fraction and zone suffix stay byte-identical.
    head, rest = value[:19], value[19:]
    try:
        moved = datetime.fromisoformat(head) + timedelta(days=k)
    except ValueError:
        return value
    return moved.strftime("%Y-%m-%dT%H:%M:%S") + rest


def _copy_event(line: bytes, k: int) -> bytes:
    event = orjson.loads(line)
    for key, value in event.items():
        if key == "EventRecordID" and isinstance(value, int):
            event[key] = value + k * 1_000_000_000
        elif key == "SystemTime" and isinstance(value, str):
            event[key] = _shift_time(value, k)
        elif isinstance(value, str) and key not in KEEP_GUID_FIELDS:
            event[key] = _shift_guid(value, k)
    return orjson.dumps(event) + b"\n"


def scaled_file(copies: int, events: int) -> Path:
    """`events.jsonl` repeated `copies` times (copy 0 is the original), streamed to disk and
    reused while its size matches the record written beside it."""
    if copies == 1:
        return EVENTS
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"events-{copies}x.jsonl"
    meta_path = path.with_suffix(".meta.json")
    want = {
        "source_bytes": EVENTS.stat().st_size,
        "copies": copies,
        "version": COPIES_VERSION,
        "events": events * copies,
    }
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if {k: meta.get(k) for k in want} == want and meta.get("bytes") == path.stat().st_size:
            return path
    print(f"writing {path.relative_to(ROOT)} ({copies} copies)…", flush=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        for k in range(copies):
            with EVENTS.open("rb") as src:
                for line in src:
                    if line.strip():
                        out.write(line if k == 0 else _copy_event(line, k))
    tmp.replace(path)
    meta_path.write_text(json.dumps({**want, "bytes": path.stat().st_size}), encoding="utf-8")
    return path


# ---------------------------------------------------------------- measuring processes


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `cmd` to completion; wall seconds, peak RSS (MiB) and its output (stdout+stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        timing = Path(tmp) / "time"
        err = Path(tmp) / "stderr"
        wrapped = [TIME, "-f", "%M", "-o", str(timing), *cmd] if Path(TIME).exists() else cmd
        with err.open("wb") as err_fh:
            started = time.perf_counter()
            proc = subprocess.Popen(wrapped, env=env, stdout=err_fh, stderr=err_fh)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = err.read_text(encoding="utf-8", errors="replace")
        # Without GNU time, wait4's rusage is the measured process's own: taskset and env
        # exec it, so the child is civicshield (or the anchor) itself.
        rss_kib = int(timing.read_text().split()[-1]) if Path(TIME).exists() else usage.ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr[-3000:]}")
    return {"wall_s": round(wall, 3), "peak_rss_mib": round(rss_kib / 1024, 1), "stderr": stderr}


def engine_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CIVICSHIELD_DATA_DIR": str(data_dir),
        "CIVICSHIELD_ENVIRONMENT": "production",
        "CIVICSHIELD_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "CIVICSHIELD_LOG_LEVEL": "WARNING",
    }


def run_engine(
    path: Path, data_dir: Path, out: Path, *, events: int, no_cache: bool = False
) -> dict[str, Any]:
    cmd = [
        *PIN,
        *["env", "POLARS_MAX_THREADS=1"],
        str(CLI),
        "detect",
        str(path),
        *["--rules", str(RULES), "--format", "jsonl", "--output", str(out)],
        *(["--no-cache"] if no_cache else []),
    ]
    result = measure(cmd, engine_env(data_dir))
    stderr = result.pop("stderr")
    running = re.search(r"running (\d+) rules", stderr)
    unsupported = re.search(r"(\d+) rules not supported", stderr)
    with out.open("rb") as fh:
        matches = sum(1 for _ in fh)
    return {
        **result,
        "events": events,
        "events_per_s": round(events / result["wall_s"], 1),
        "matches": matches,
        "rules_run": int(running.group(1)) if running else None,
        "rules_unsupported": int(unsupported.group(1)) if unsupported else 0,
    }


def pairs_of_output(out: Path) -> set[tuple[str, int]]:
    with out.open("rb") as fh:
        return {(m["rule_id"], m["line"]) for m in map(orjson.loads, fh)}


def reference_pairs() -> set[tuple[str, int]]:
    ref = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return {(r["rule_id"], line) for r in ref["rules"] for line in r["lines"]}


# ---------------------------------------------------------------- anchor


def anchor_python() -> Path:
    """The anchor's venv, built once (reused while its pins match)."""
    python = ANCHOR_VENV / "bin" / "python"
    marker = ANCHOR_VENV / "bench-pins.txt"
    pins = "\n".join(ANCHOR_PINS)
    if python.exists() and marker.exists() and marker.read_text(encoding="utf-8") == pins:
        return python
    print(f"building the anchor venv in {ANCHOR_VENV.relative_to(ROOT)}…", flush=True)
    shutil.rmtree(ANCHOR_VENV, ignore_errors=True)
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", str(ANCHOR_VENV)], check=True)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *ANCHOR_PINS,
        ],
        check=True,
    )
    marker.write_text(pins, encoding="utf-8")
    return python


def run_anchor(python: Path, rules_json: Path, path: Path, *, lines: bool) -> dict[str, Any]:
    out = WORK / f"anchor-{path.stem}.json"
    cmd = [*PIN, str(python), str(ANCHOR_SCRIPT), "run", str(rules_json), str(path), str(out)]
    result = measure([*cmd, "--lines"] if lines else cmd)
    print("  " + result.pop("stderr").strip().replace("\n", "\n  "))
    inner = json.loads(out.read_text(encoding="utf-8"))
    out.unlink()
    return {
        **inner,
        "wall_s": result["wall_s"],  # the whole process, from outside
        "peak_rss_mib": result["peak_rss_mib"],
        "inner_wall_s": inner["wall_s"],
        "process_events_per_s": round(inner["events"] / result["wall_s"], 1),
    }


# ---------------------------------------------------------------- report


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| Run | Input (events) | Wall (s) | Throughput (events/s) | Peak RSS (MiB) "
        "| Detections | Ours ÷ anchor (×) |\n|---|---:|---:|---:|---:|---:|---:|\n"
    )
    return head + "\n".join(
        f"| {r['label']} | {r['events']:,} | {_fmt(r['wall_s'], 2)} | "
        f"{_fmt(r.get('events_per_s'))} | {_fmt(r['peak_rss_mib'])} | {r['matches']:,} | "
        f"{_fmt(r.get('ratio'), 2)} |"
        for r in rows
    )


def child_parse(path: Path, data_dir: Path) -> None:
    """Polars' `read_ndjson` alone over `path`, given the fields the cached rule set reads as
    its schema (as our reader is): the JSON parse every Polars-based reader pays. The rule
    set is loaded untimed; one figure, as JSON on stdout."""
    import polars as pl

    from civicshield.detect import cache

    newest = max((data_dir / "cache" / "compiled").glob("*.bin"), key=lambda p: p.stat().st_mtime)
    entry = cache.load_entry(newest)
    if entry is None:
        raise SystemExit(f"cannot read the compiled rule cache {newest}")
    schema = {f: pl.String for f in sorted(entry.ruleset.fields) if not f.startswith("_")}
    started = time.perf_counter()
    rows = pl.read_ndjson(path, schema=schema).height
    print(
        json.dumps({"rows": rows, "fields": len(schema), "parse_s": time.perf_counter() - started})
    )


def run_parse(path: Path, data_dir: Path) -> dict[str, Any]:
    cmd = [*PIN, "env", "POLARS_MAX_THREADS=1", sys.executable, __file__, "--child-parse"]
    result = measure([*cmd, str(path), str(data_dir)], engine_env(data_dir))
    inner = json.loads(result["stderr"].strip().splitlines()[-1])
    return {**inner, "events_per_s": round(inner["rows"] / inner["parse_s"], 1)}


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "NOT met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1x and 20x only")
    parser.add_argument("--child-parse", nargs=2, metavar=("FILE", "DATA_DIR"))
    args = parser.parse_args()
    if args.child_parse:
        child_parse(Path(args.child_parse[0]), Path(args.child_parse[1]))
        return
    for needed in (EVENTS, REFERENCE, RULES):
        if not needed.exists():
            raise SystemExit(f"missing shared data: {needed} (needs ../shared/data)")
    if shutil.which("taskset") is None:
        raise SystemExit("taskset is missing (util-linux): the runs must be pinned to core 0")
    if len(os.sched_getaffinity(0)) >= 2:
        os.sched_setaffinity(0, {1})  # keep this script off the measured core
    WORK.mkdir(parents=True, exist_ok=True)
    load_start = os.getloadavg()
    with EVENTS.open("rb") as fh:
        base_events = sum(1 for line in fh if line.strip())
    sizes = [1, 20] if args.quick else [1, 20, 100]
    files = {n: scaled_file(n, base_events) for n in sizes}
    one_event = WORK / "events-one.jsonl"
    with EVENTS.open("rb") as fh:
        one_event.write_bytes(fh.readline())
    out = WORK / "matches.jsonl"

    # Anchor first: converting ~2,400 rules is untimed and done once per run.
    python = anchor_python()
    rules_json = WORK / "anchor-rules.json"
    print("anchor: converting rules/windows (untimed)…", flush=True)
    subprocess.run(
        [str(python), str(ANCHOR_SCRIPT), "convert", str(RULES), str(rules_json)], check=True
    )
    converted = json.loads(rules_json.read_text(encoding="utf-8"))
    anchor: dict[int, dict[str, Any]] = {}
    for n in (1, 20):
        print(f"anchor {n}x:", flush=True)
        anchor[n] = run_anchor(python, rules_json, files[n], lines=n == 1)
    ref = reference_pairs()
    got = {(rule, line) for rule, line in anchor[1].pop("pairs")}
    reproduced = got == ref
    anchor_diff = {"only_anchor": len(got - ref), "only_reference": len(ref - got)}
    anchor_scales = anchor[20]["detections"] == 20 * anchor[1]["detections"]
    print(
        f"anchor reproduces zircolite_reference.json: {'exactly' if reproduced else 'NO'} "
        f"({len(got)} vs {len(ref)} pairs; {anchor_diff['only_anchor']} only in the anchor, "
        f"{anchor_diff['only_reference']} only in the reference)"
    )

    # Our engine: cold compile, warm start-up, then each size. The package is byte-compiled
    # first, as `pip install` leaves it: from an editable checkout under
    # PYTHONDONTWRITEBYTECODE, every edited module would be compiled again in every run.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "civicshield")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    data_dir = WORK / "data"
    shutil.rmtree(data_dir, ignore_errors=True)
    print("ours: cold compile (--no-cache, fresh data dir, 1 event)…", flush=True)
    cold = run_engine(one_event, data_dir, out, events=1, no_cache=True)
    warm_runs = [run_engine(one_event, data_dir, out, events=1) for _ in range(5)]
    warm = warm_runs[0] | {"wall_s": statistics.median(r["wall_s"] for r in warm_runs)}
    print(f"  cold {cold['wall_s']:.2f} s, warm start-up {warm['wall_s']:.2f} s (median of 5)")
    ours: dict[int, dict[str, Any]] = {}
    for n in sizes:
        print(f"ours {n}x ({base_events * n:,} events)…", flush=True)
        ours[n] = run_engine(files[n], data_dir, out, events=base_events * n)
        if n == 1:
            mine = pairs_of_output(out)
            ours[1]["vs_reference"] = {
                "only_ours": len(mine - ref),
                "only_reference": len(ref - mine),
            }
            print(
                f"  (rule, line) pairs vs zircolite_reference.json: {len(mine - ref)} only "
                f"ours, {len(ref - mine)} only the reference's"
            )
        print(
            f"  {ours[n]['wall_s']:.2f} s, {ours[n]['events_per_s']:,.0f} events/s, "
            f"{ours[n]['peak_rss_mib']:.0f} MiB, {ours[n]['matches']:,} matches"
        )
    out.unlink(missing_ok=True)
    parse: dict[int, dict[str, Any]] = {}
    for n in sizes[1:]:
        print(f"Polars read_ndjson alone, {n}x…", flush=True)
        parse[n] = run_parse(files[n], data_dir)
        print(f"  {parse[n]['parse_s']:.2f} s, {parse[n]['events_per_s']:,.0f} events/s")

    # Ratios: ours end to end ÷ the anchor's timed part (inserts + queries), the anchor's
    # most favourable figure; and ÷ the anchor's whole process, like for like.
    for n in (1, 20):
        ours[n]["ratio"] = round(ours[n]["events_per_s"] / anchor[n]["events_per_s"], 2)
        ours[n]["ratio_process"] = round(
            ours[n]["events_per_s"] / anchor[n]["process_events_per_s"], 2
        )
    scales = {n: ours[n]["matches"] == n * ours[1]["matches"] for n in sizes if n > 1}
    big = [n for n in sizes if n > 1]
    ratio = min(ours[n]["ratio"] for n in (1, 20))
    throughput = min(ours[n]["events_per_s"] for n in big)
    rss_growth = ours[100]["peak_rss_mib"] / ours[20]["peak_rss_mib"] if 100 in ours else None
    targets = {
        "ratio_vs_anchor": {
            "target": f">= {TARGET_RATIO:.0f}x",
            "measured": ratio,
            "met": ratio >= TARGET_RATIO if reproduced else None,
        },
        "events_per_s_one_core": {
            "target": f">= {TARGET_EVENTS_PER_S:,.0f}",
            "measured": throughput,
            "met": throughput >= TARGET_EVENTS_PER_S,
        },
        "warm_startup_s": {
            "target": f"< {TARGET_WARM_S}",
            "measured": warm["wall_s"],
            "met": warm["wall_s"] < TARGET_WARM_S,
        },
        "cold_compile_s": {
            "target": f"< {TARGET_COLD_S:.0f}",
            "measured": cold["wall_s"],
            "met": cold["wall_s"] < TARGET_COLD_S,
        },
        "peak_rss_flat_20x_to_100x": {
            "target": f"100x peak RSS <= {FLAT_RSS_GROWTH} x 20x",
            "measured": round(rss_growth, 2) if rss_growth else None,
            "met": rss_growth <= FLAT_RSS_GROWTH if rss_growth else None,
        },
    }

    rows = [
        {"label": "ours: cold compile (`--no-cache`)", **cold},
        {"label": "ours: warm start-up (median of 5)", **warm},
        *({"label": f"ours: {n}x", **ours[n]} for n in sizes),
        *(
            {
                "label": f"anchor: {n}x (inserts + queries)",
                **anchor[n],
                "wall_s": anchor[n]["timed_s"],
                "matches": anchor[n]["detections"],
            }
            for n in (1, 20)
        ),
        *(
            {
                "label": f"anchor: {n}x (whole process)",
                **anchor[n],
                "events_per_s": anchor[n]["process_events_per_s"],
                "matches": anchor[n]["detections"],
            }
            for n in (1, 20)
        ),
    ]
    for r in rows[:2]:
        r.pop("events_per_s", None)  # one event: start-up, not throughput
    print()
    print(table(rows))
    print()
    for name, t in targets.items():
        print(f"{name}: {t['measured']} (target {t['target']}): {verdict(t['met'])}")
    for n, ok in scales.items():
        print(f"{n}x matches = {n} x 1x: {'yes' if ok else 'NO'}")

    targets_md = "\n".join(
        f"| {label} | {t['target']} | {_fmt(t['measured'], 2)} | {verdict(t['met'])} |"
        for label, t in zip(
            [
                "Ours ÷ anchor events/s, worst of 1x and 20x (×)",
                "Our events/s on one core, end to end, worst of the ≥ 20x files",
                "Warm start-up, 1 event (s)",
                "Cold compile of `rules/windows`, 1 event (s)",
                "Peak RSS, 100x ÷ 20x",
            ],
            targets.values(),
            strict=True,
        )
    )
    scale_md = "; ".join(
        f"{n}x: {ours[n]['matches']:,} {'=' if ok else '**≠**'} {n} × {ours[1]['matches']:,}"
        for n, ok in scales.items()
    )
    load_end = os.getloadavg()
    load_md = (
        f"Load average (1/5/15 min) {'/'.join(f'{x:.1f}' for x in load_start)} at the start, "
        f"{'/'.join(f'{x:.1f}' for x in load_end)} at the end: on a shared machine other work "
        "competes for core 0, so compare rows within one run."
    )
    sizes_md = "20x" if args.quick else "20x, 100x"
    quick_md = " `--quick` run: no 100x file." if args.quick else ""
    repro_md = "exactly" if reproduced else "NOT exactly, so its figures do not count"
    a1, a20, o1, o20 = anchor[1], anchor[20], ours[1], ours[20]
    parse_fields = next(iter(parse.values()))["fields"]
    fastest = max(p["events_per_s"] for p in parse.values())
    ceiling_md = "above" if fastest < TARGET_EVENTS_PER_S else "within"
    parse_md = "; ".join(
        f"{n}x {p['events_per_s']:,.0f} events/s ({p['parse_s']:.2f} s; ours end to end "
        f"{ours[n]['events_per_s'] / p['events_per_s']:.2f}× of it)"
        for n, p in parse.items()
    )
    body = f"""
`taskset -c 0 env POLARS_MAX_THREADS=1 civicshield detect FILE --rules
../shared/data/sigma/rules/windows --format jsonl --output F` as a whole process (wall time
and peak RSS from outside), compiled rule cache warm except in the cold-compile row, on
{base_events:,} EVTX-ATTACK-SAMPLES events (1x) and copies of them ({sizes_md}; each copy
shifts `EventRecordID`, `SystemTime` and every instance GUID, so no two copies are
identical). {o1["rules_run"]:,} rules run, {o1["rules_unsupported"]} reported unsupported.
The bench script itself runs on core 1.{quick_md} {load_md}

**Anchor** (same run, same core): Zircolite's design in `bench/detect_anchor.py`, in its own
venv (pySigma 1.5.1, pysigma-backend-sqlite 2.0.0, pysigma-pipeline-sysmon 2.0.0,
pysigma-pipeline-windows 2.0.1). {len(converted["rules"]):,} rules converted with the
`sysmon` and `windows-logsources` pipelines ({len(converted["conversion_errors"])} not
convertible; conversion untimed); events in an in-memory table of `TEXT COLLATE NOCASE`
columns (`executemany` batches); one SQL query per rule; a rule naming a column no event has
is dropped, as Zircolite does ({a1["rules_dropped_missing_column"]} rules). Its
"inserts + queries" rows time only the table build and the queries (JSON parsing and
start-up excluded: its most favourable figure, used for the ratio); its whole-process rows
are like for like with ours. On 1x it reproduces `zircolite_reference.json` **{repro_md}**
({a1["detections"]} detections by {a1["rules_matched"]} rules; {anchor_diff["only_anchor"]}
pairs only in the anchor, {anchor_diff["only_reference"]} only in the reference); 20x gives
{a20["detections"]:,} ({"= 20 × 1x" if anchor_scales else "**not** 20 × 1x"}).

{table(rows)}

**Parse ceiling**: Polars' `read_ndjson` alone, given the {parse_fields} fields the rules
read as its schema (what our reader gives it), timed inside a pinned process: {parse_md}. No
reader built on it can be faster; the one-core target of {TARGET_EVENTS_PER_S:,.0f} events/s is
{ceiling_md} what the parse alone gives here.

Against the anchor's whole process, ours is {o1["ratio_process"]}× (1x) and
{o20["ratio_process"]}× (20x). Our matches scale with the copies: {scale_md}. Our 1x
(rule, line) pairs against `zircolite_reference.json`: {o1["vs_reference"]["only_ours"]} only
ours, {o1["vs_reference"]["only_reference"]} only the reference's (each difference is explained,
with its cause and the Sigma specification clause, in `docs/detect-zircolite.md`).

| Target | Goal | Measured | |
|---|---|---:|---|
{targets_md}
"""
    write_section(
        "detect",
        body,
        {
            "quick": args.quick,
            "load_average": {"start": list(load_start), "end": list(load_end)},
            "events_1x": base_events,
            "cold_compile": cold,
            "warm_startup": warm,
            "warm_startup_runs_s": [r["wall_s"] for r in warm_runs],
            "ours": {f"{n}x": ours[n] for n in sizes},
            "anchor": {f"{n}x": anchor[n] for n in (1, 20)},
            "polars_parse_alone": {f"{n}x": p for n, p in parse.items()},
            "anchor_reproduces_reference": reproduced,
            "anchor_reference_diff": anchor_diff,
            "anchor_rules_converted": len(converted["rules"]),
            "anchor_conversion_errors": converted["conversion_errors"],
            "matches_scale": {f"{n}x": ok for n, ok in scales.items()},
            "targets": targets,
        },
    )
    print("wrote docs/benchmarks.md and docs/benchmarks/detect.json")


if __name__ == "__main__":
    main()
