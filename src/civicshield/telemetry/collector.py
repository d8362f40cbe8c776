"""The collector: the syslog listener and the file tailers feeding `intake`, in one background
thread (inside `civicshield serve`, or alone with `civicshield listen`).

Every second it drains the syslog queue (messages grouped by sender; a message holding `CEF:`
is read as CEF, anything else as syslog) and polls the tailers (one per `format:glob` entry of
`CIVICSHIELD_TAIL_PATHS`), sends what came to `intake` under the source names `syslog:<ip>` and
`tail:<path>`, and only then commits the tailers' positions: a crash re-reads at most the last
chunk (intake downstream is idempotent per spool entry; see `telemetry.stream`).

Back-pressure: while the detection spool is over its budget the collector neither drains nor
polls. The syslog queue then fills and TCP senders are paused (UDP datagrams beyond the queue
are dropped and counted: UDP has no back-pressure); tailed files simply wait on disk.

Zeek TSV files are read in chunks; each chunk is parsed with the header block (`#fields`,
`#types`, …) last seen in that file, kept per file identity.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civicshield.core import Settings
from civicshield.core.clock import Clock
from civicshield.core.errors import CivicShieldError, ConfigError
from civicshield.detect.ingest import STREAMABLE
from civicshield.jobs import JobRegistry
from civicshield.telemetry.intake import intake
from civicshield.telemetry.paths import spool
from civicshield.telemetry.syslog_server import SyslogMessage, SyslogServer
from civicshield.telemetry.tail import TailChunk, Tailer

__all__ = ["Collector", "TailSpec", "parse_tail_specs"]

log = logging.getLogger(__name__)
UnitOfWork = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class TailSpec:
    format: str
    pattern: str


def parse_tail_specs(entries: list[str]) -> list[TailSpec]:
    """`format:glob` entries (e.g. `zeek:/opt/zeek/logs/current/*.log`). Raises `ConfigError`
    naming the bad entry."""
    specs = []
    for entry in entries:
        fmt, sep, pattern = entry.partition(":")
        if not sep or not pattern.strip():
            raise ConfigError(
                f"tail entry {entry!r}: write it as FORMAT:GLOB, "
                "e.g. eve:/var/log/suricata/eve.json"
            )
        if fmt not in STREAMABLE:
            raise ConfigError(
                f"tail entry {entry!r}: format must be one of {', '.join(STREAMABLE)}"
            )
        specs.append(TailSpec(fmt, pattern.strip()))
    return specs


@dataclass
class _Tail:
    spec: TailSpec
    tailer: Tailer
    headers: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)


def _file_header(path: str) -> list[tuple[int, bytes]]:
    """The header block at the top of a Zeek log (after a restart, the chunk in hand starts
    past it)."""
    found: list[tuple[int, bytes]] = []
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.startswith(b"#") or number > 64:
                    break
                found.append((number, line.rstrip(b"\r\n")))
    except OSError:
        return []
    return found


class Collector:
    def __init__(
        self,
        unit_of_work: UnitOfWork,
        settings: Settings,
        *,
        registry: JobRegistry,
        clock: Clock,
        syslog: SyslogServer | None = None,
        tails: list[TailSpec] | None = None,
        interval: float = 1.0,
        rotate_wait: float = 5.0,
    ) -> None:
        self.unit_of_work, self.settings, self.registry, self.clock = (
            unit_of_work,
            settings,
            registry,
            clock,
        )
        self.syslog = syslog
        state = settings.data_dir / "tail"
        state.mkdir(parents=True, exist_ok=True)
        self.tails = [
            _Tail(
                spec,
                Tailer(
                    [spec.pattern],
                    state / f"{spec.format}-{index}.json",
                    rotate_wait=rotate_wait,
                ),
            )
            for index, spec in enumerate(tails or [])
        ]
        self.interval = interval
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None
        self.counts = {"syslog": 0, "tail": 0, "paused": 0}

    @classmethod
    def from_settings(
        cls, unit_of_work: UnitOfWork, settings: Settings, *, registry: JobRegistry, clock: Clock
    ) -> Collector | None:
        """The collector the settings ask for; None when they name no listener or tail."""
        ports = (settings.syslog_udp_port, settings.syslog_tcp_port, settings.syslog_tls_port)
        tails = parse_tail_specs(settings.tail_paths)
        if all(p is None for p in ports) and not tails:
            return None
        server = None
        if any(p is not None for p in ports):
            server = SyslogServer(
                host=settings.syslog_host,
                udp_port=settings.syslog_udp_port,
                tcp_port=settings.syslog_tcp_port,
                tls_port=settings.syslog_tls_port,
                certfile=settings.syslog_tls_cert,
                keyfile=settings.syslog_tls_key,
            )
        return cls(
            unit_of_work, settings, registry=registry, clock=clock, syslog=server, tails=tails
        )

    # -- one round ---------------------------------------------------------------------------

    def tick(self) -> int:
        """Move what is waiting into intake; returns how many records were taken."""
        box = spool(self.settings)
        if box.bytes() >= box.max_bytes:
            self.counts["paused"] += 1
            return 0
        taken = 0
        if self.syslog is not None:
            taken += self._syslog(self.syslog.drain(10_000))
        for tail in self.tails:
            for chunk in tail.tailer.poll():
                taken += self._chunk(tail, chunk)
                tail.tailer.commit(chunk)
        return taken

    def _take(self, kind: str, source: str, lines: list[tuple[int, bytes]], fmt: str) -> int:
        with self.unit_of_work() as session:
            report = intake(
                session, self.settings, registry=self.registry, clock=self.clock, kind=kind,
                source=source, lines=lines, fmt=fmt, force=True,
            )  # fmt: skip
        return report.received

    def _syslog(self, messages: list[SyslogMessage]) -> int:
        groups: dict[tuple[str, str], list[tuple[int, bytes]]] = {}
        for message in messages:
            ip = message.peer.rsplit(":", 1)[0].strip("[]")
            fmt = "cef" if b"CEF:" in message.data[:512] else "syslog"
            lines = groups.setdefault((ip, fmt), [])
            lines.append((len(lines) + 1, message.data.replace(b"\n", b" ")))
        taken = 0
        for (ip, fmt), lines in groups.items():
            taken += self._take("syslog", ip, lines, fmt)
        self.counts["syslog"] += taken
        return taken

    def _chunk(self, tail: _Tail, chunk: TailChunk) -> int:
        lines = [(chunk.first_line + i, line) for i, line in enumerate(chunk.lines)]
        if tail.spec.format == "zeek":
            header = tail.headers.get(chunk.file_id) or _file_header(chunk.path)
            starts_with_header = bool(lines) and lines[0][1].startswith(b"#")
            block: list[tuple[int, bytes]] = [] if starts_with_header else list(header)
            for number, line in lines:
                if line.startswith(b"#separator"):
                    header = [(number, line)]
                elif line.startswith(b"#") and not line.startswith(b"#close"):
                    header = [*header, (number, line)]
            tail.headers[chunk.file_id] = header
            lines = block + lines
        if not any(line.strip() and not line.startswith(b"#") for _, line in lines):
            return 0
        taken = self._take("tail", chunk.path, lines, tail.spec.format)
        self.counts["tail"] += taken
        return taken

    # -- thread -------------------------------------------------------------------------------

    def run_forever(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.tick()
            except CivicShieldError as exc:
                log.warning("collector: %s", exc)
            except Exception:  # keep collecting; the error is logged with its traceback
                log.exception("collector tick failed")
            self.stop_event.wait(self.interval)

    def start(self) -> None:
        if self.syslog is not None:
            self.syslog.start()
            log.info("syslog listener on %s", self.syslog.ports)
        self._thread = threading.Thread(
            target=self.run_forever, name="civicshield-collector", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.tick_safely()
        if self.syslog is not None:
            self.syslog.stop()
        for tail in self.tails:
            tail.tailer.close()

    def tick_safely(self) -> None:
        """One last round (what arrived since the previous one), errors logged."""
        try:
            self.tick()
        except Exception:
            log.exception("collector: final round failed")

    def status(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "syslog": None
            if self.syslog is None
            else {"ports": self.syslog.ports, **self.syslog.stats()},
            "tails": [{"format": t.spec.format, "files": t.tailer.status()} for t in self.tails],
        }
