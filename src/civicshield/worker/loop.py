"""A polling worker over the database job table. Several may run at once (threads, processes
or machines): claiming is atomic, so each job runs once per attempt."""

from __future__ import annotations

import logging
import os
import threading

from civicshield import jobs
from civicshield.jobs import JobRead
from civicshield.runtime import Runtime

__all__ = ["Worker"]

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, runtime: Runtime, *, name: str | None = None) -> None:
        self.runtime = runtime
        self.name = name or f"{runtime.worker_name}:{os.getpid()}:{threading.get_ident()}"
        self.stop_event = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[JobRead]:
        """Queue due schedules, then run every runnable job; return the jobs that ran."""
        rt = self.runtime
        with rt.session() as session:
            jobs.sync_schedules(session, registry=rt.jobs, clock=rt.clock)
            jobs.enqueue_due(session, registry=rt.jobs, clock=rt.clock)
        ran: list[JobRead] = []
        while not self.stop_event.is_set():
            job = jobs.run_next(
                rt.session, registry=rt.jobs, clock=rt.clock, worker=self.name, services=rt.services
            )
            if job is None:
                break
            log.info("job %s %s: %s", job.id, job.name, job.status)
            ran.append(job)
        return ran

    def run_forever(self) -> None:
        log.info("worker %s started", self.name)
        while not self.stop_event.is_set():
            try:
                self.tick()
            except Exception:  # keep the worker alive; the error is logged with its traceback
                log.exception("worker tick failed")
            self.stop_event.wait(self.runtime.settings.worker_poll_seconds)
        log.info("worker %s stopped", self.name)

    def start_thread(self) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, name="civicshield-worker", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout)
