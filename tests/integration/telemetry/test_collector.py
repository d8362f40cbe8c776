"""The collector end to end: real syslog clients and a Zeek log being rotated, through intake,
continuous detection and the event store; nothing lost, nothing twice, restarts resume."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from civicshield.core import FrozenClock
from civicshield.detect.eventstore import hunt
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.telemetry import Collector, SyslogServer, TailSpec, detect_spooled, list_sources
from civicshield.telemetry.paths import event_store
from tests.conftest import make_settings

LOGGER = shutil.which("logger")
HEADER = "\n".join(
    [
        "#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-",
        "#path\tconn", "#open\t2026-11-22-10-00-00",
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto",
        "#types\ttime\tstring\taddr\tport\taddr\tport\tenum",
    ]
)  # fmt: skip


@pytest.fixture
def rt(tmp_path: Path, db_url: str, clock: FrozenClock) -> Iterator[Runtime]:
    settings = make_settings(tmp_path / "var", database_url=db_url, feeds_path=tmp_path / "none")
    upgrade(settings.resolved_database_url)
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    runtime.close()


def stored(rt: Runtime, dataset: str) -> list[str]:
    frame = hunt(event_store(rt.settings), 'SELECT "_raw" FROM events', datasets=[dataset])
    return frame.get_column("_raw").to_list() if frame.height else []


@pytest.mark.skipif(LOGGER is None, reason="util-linux `logger` is not installed")
def test_syslog_over_udp_and_tcp_reaches_the_store(rt: Runtime) -> None:
    server = SyslogServer(udp_port=0, tcp_port=0)
    collector = Collector(rt.session, rt.settings, registry=rt.jobs, clock=rt.clock, syslog=server)
    server.start()
    try:
        sent = 0
        for transport in ("--udp", "--tcp"):
            for fmt in ("--rfc3164", "--rfc5424"):
                port = server.ports[transport[2:]]
                for n in range(5):
                    assert LOGGER is not None
                    subprocess.run(
                        [LOGGER, "--server", "127.0.0.1", "--port", str(port), transport, fmt,
                         "-t", "camera", f"login failed for admin {transport} {fmt} {n}"],
                        check=True, timeout=10,
                    )  # fmt: skip
                    sent += 1
        deadline = time.monotonic() + 20
        taken = 0
        while taken < sent and time.monotonic() < deadline:
            taken += collector.tick()
            time.sleep(0.1)
        assert taken == sent
    finally:
        server.stop()
    detect_spooled(rt.session, rt.settings, clock=rt.clock)
    texts = stored(rt, "syslog")
    assert len(texts) == sent and all("login failed for admin" in t for t in texts)
    with rt.session() as s:
        [source] = list_sources(s, clock=rt.clock)
    assert source.name == "syslog:127.0.0.1" and source.events_total == sent


def write(path: Path, first: int, count: int, header: bool = False) -> None:
    with path.open("a", encoding="utf-8") as out:
        if header:
            out.write(HEADER + "\n")
        for n in range(first, first + count):
            out.write(
                f"{1763805600 + n}.0\tC{n}\t10.0.0.{n % 250}\t4{n % 1000:03d}\t10.20.0.9\t23\ttcp\n"
            )


def test_a_rotated_zeek_log_is_read_once_across_restarts(rt: Runtime, tmp_path: Path) -> None:
    logs = tmp_path / "zeek"
    logs.mkdir()
    current = logs / "conn.log"
    spec = [TailSpec("zeek", str(logs / "*.log"))]

    def collector() -> Collector:
        return Collector(
            rt.session, rt.settings, registry=rt.jobs, clock=rt.clock, tails=spec, rotate_wait=0
        )

    first = collector()
    write(current, 0, 300, header=True)
    first.tick()
    write(current, 300, 200)  # more lines in the same file, chunk without a header
    first.tick()
    current.rename(logs / "conn.1.old")  # rotated away (no longer matches), then a new file
    write(logs / "conn.1.old", 500, 50)  # the writer still had the old file open
    write(current, 550, 100, header=True)
    first.tick()
    first.stop()
    second = collector()  # a restart: resumes where the first stopped
    write(current, 650, 100)
    for _ in range(3):
        second.tick()
    second.stop()
    detect_spooled(rt.session, rt.settings, clock=rt.clock, max_batches=100)
    uids = [raw.split("\t")[1] for raw in stored(rt, "zeek.conn")]
    assert len(uids) == len(set(uids))  # nothing twice
    assert sorted(uids, key=lambda u: int(u[1:])) == [f"C{n}" for n in range(750)]  # nothing lost
