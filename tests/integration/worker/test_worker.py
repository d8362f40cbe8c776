"""The job worker: schedules, retries with back-off, lease expiry and concurrent workers, on
SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from civicshield import jobs
from civicshield.core import FrozenClock, Settings
from civicshield.core.hookspecs import hookimpl
from civicshield.jobs import JobContext, JobDefinition, JobRead, JobStatus
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime, build_runtime
from civicshield.worker import Worker
from tests.conftest import test_settings


def tick(worker: Worker) -> list[JobRead]:
    """The jobs one tick ran, without the minute-by-minute ingest health check, the demo stream,
    the peer pulls and the five-minute legal-clock reminders (they have their own tests), so
    that these tests see only the schedules they are about."""
    frequent = ("telemetry.", "incidents.reminders", "intel.pull")
    return [j for j in worker.tick() if not j.name.startswith(frequent)]


class WorkerCrashed(BaseException):
    """Stands in for a worker process dying mid-job (not an ordinary job failure)."""


class JobsPlugin:
    """A plugin registering counting, failing and crashing jobs (state shared by threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: Counter[int] = Counter()
        self.ran_by: dict[int, str] = {}
        self.ticks = 0
        self.crash_next = True

    @hookimpl
    def civicshield_register_jobs(self) -> list[JobDefinition]:
        return [
            JobDefinition(name="test.count", run=self._count, max_attempts=1),
            JobDefinition(name="test.tick", run=self._tick, every_seconds=600),
            JobDefinition(name="test.fail", run=self._fail, max_attempts=3, backoff_seconds=30),
            JobDefinition(name="test.crash", run=self._crash, max_attempts=3),
        ]

    def _count(self, ctx: JobContext) -> dict[str, Any]:
        n = int(ctx.args["n"])
        time.sleep(0.002)  # give the other worker a chance to try for the same job
        with self.lock:
            self.runs[n] += 1
            self.ran_by[n] = threading.current_thread().name
        return {"n": n}

    def _tick(self, ctx: JobContext) -> None:
        self.ticks += 1
        ctx.log.info(f"tick {self.ticks}")

    def _fail(self, ctx: JobContext) -> None:
        ctx.log.info("trying the flaky service")
        raise ConnectionError("flaky service refused")

    def _crash(self, ctx: JobContext) -> dict[str, Any]:
        if self.crash_next:
            self.crash_next = False
            raise WorkerCrashed()
        return {"recovered": True}


@pytest.fixture
def settings(tmp_path: Path, any_db_url: str) -> Settings:
    upgrade(any_db_url)
    return test_settings(tmp_path / "var", database_url=any_db_url)


@pytest.fixture
def plugin() -> JobsPlugin:
    return JobsPlugin()


@pytest.fixture
def rt(settings: Settings, clock: FrozenClock, plugin: JobsPlugin) -> Iterator[Runtime]:
    runtime = build_runtime(settings, clock=clock, plugins=[plugin])
    yield runtime
    runtime.close()


def enqueue(rt: Runtime, name: str, **args: Any) -> int:
    with rt.session() as session:
        return jobs.enqueue(session, name, registry=rt.jobs, clock=rt.clock, args=args).id


def job(rt: Runtime, job_id: int) -> jobs.JobRead:
    with rt.session() as session:
        return jobs.get_job(session, job_id)


def test_tick_runs_due_schedules_and_queued_jobs(
    rt: Runtime, clock: FrozenClock, plugin: JobsPlugin
) -> None:
    worker = Worker(rt, name="w1")
    queued = enqueue(rt, "test.count", n=1)
    ran = tick(worker)
    names = Counter(j.name for j in ran)
    assert names == Counter(
        {
            "test.count": 1,
            "test.tick": 1,
            "audit.verify": 1,
            "accounts.prune_sessions": 1,
            "vulns.expire_acceptances": 1,
            "vulns.risk_snapshot": 1,
        }
    )
    assert all(j.status is JobStatus.SUCCEEDED and j.worker == "w1" for j in ran)
    assert job(rt, queued).result == {"n": 1} and plugin.runs[1] == 1
    with rt.session() as session:
        schedules = {s.name: s for s in jobs.list_schedules(session)}
    assert schedules["test.tick"].next_run_at == clock.now() + timedelta(seconds=600)

    assert tick(worker) == []  # nothing due until the schedule comes round
    clock.advance(timedelta(seconds=599))
    assert tick(worker) == []
    clock.advance(timedelta(seconds=1))
    assert [j.name for j in tick(worker)] == ["test.tick"]
    assert plugin.ticks == 2
    with rt.session() as session:
        page = jobs.list_jobs(session, name="test.tick")
        assert [line.message for line in jobs.job_log(session, page.items[0].id)] == ["tick 2"]


def test_a_failing_job_backs_off_then_fails_with_its_error_and_log(
    rt: Runtime, clock: FrozenClock
) -> None:
    worker = Worker(rt)
    failing = enqueue(rt, "test.fail")
    start = clock.now()
    tick(worker)
    first = job(rt, failing)
    assert (first.status, first.attempts) == (JobStatus.QUEUED, 1)
    assert first.run_after == start + timedelta(seconds=30)
    assert first.error == "ConnectionError: flaky service refused"

    clock.advance(timedelta(seconds=29))
    assert tick(worker) == []  # still backing off
    clock.advance(timedelta(seconds=1))
    assert [j.id for j in tick(worker)] == [failing]
    second = job(rt, failing)
    assert (second.status, second.attempts) == (JobStatus.QUEUED, 2)
    assert second.run_after == clock.now() + timedelta(seconds=60)  # exponential

    clock.advance(timedelta(seconds=60))
    (last,) = tick(worker)
    assert (last.id, last.status, last.attempts) == (failing, JobStatus.FAILED, 3)
    assert last.error == "ConnectionError: flaky service refused"
    assert last.finished_at == clock.now()
    clock.advance(timedelta(days=1))
    assert failing not in [j.id for j in tick(worker)]
    with rt.session() as session:
        log = jobs.job_log(session, failing)
    assert [line.level for line in log] == ["INFO", "ERROR"] * 3
    assert log[0].message == "trying the flaky service"
    assert "Traceback" in log[1].message
    assert "ConnectionError: flaky service refused" in log[1].message


def test_a_job_whose_lease_expired_is_reclaimed(
    settings: Settings, clock: FrozenClock, plugin: JobsPlugin
) -> None:
    dead = build_runtime(settings, clock=clock, plugins=[plugin])
    alive = build_runtime(settings, clock=clock, plugins=[plugin])
    try:
        tick(Worker(alive))  # get the scheduled jobs out of the way
        crashing = enqueue(dead, "test.crash")
        with pytest.raises(WorkerCrashed):
            Worker(dead, name="dead-worker").tick()
        stuck = job(alive, crashing)
        assert (stuck.status, stuck.worker, stuck.attempts) == (JobStatus.RUNNING, "dead-worker", 1)

        clock.advance(timedelta(minutes=9))
        assert tick(Worker(alive)) == []  # the lease still holds
        clock.advance(timedelta(minutes=2))
        ran = tick(Worker(alive, name="rescuer"))
        (reclaimed,) = [j for j in ran if j.id == crashing]
        assert (reclaimed.id, reclaimed.status, reclaimed.worker) == (
            crashing,
            JobStatus.SUCCEEDED,
            "rescuer",
        )
        assert reclaimed.attempts == 2 and reclaimed.result == {"recovered": True}
    finally:
        dead.close()
        alive.close()


def test_two_workers_in_threads_never_run_a_job_twice(
    settings: Settings, clock: FrozenClock, plugin: JobsPlugin
) -> None:
    count = 60
    runtimes = [build_runtime(settings, clock=clock, plugins=[plugin]) for _ in range(2)]
    try:
        for n in range(count):
            enqueue(runtimes[0], "test.count", n=n)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        ran: dict[str, list[jobs.JobRead]] = {}

        def work(rt: Runtime, name: str) -> None:
            try:
                barrier.wait()
                ran[name] = Worker(rt, name=name).tick()
            except BaseException as exc:  # reported below, on the main thread
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(rt, f"worker-{i}"), name=f"worker-{i}")
            for i, rt in enumerate(runtimes)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        assert plugin.runs == Counter(dict.fromkeys(range(count), 1))  # each job exactly once
        counted = [j for jobs_ran in ran.values() for j in jobs_ran if j.name == "test.count"]
        assert len(counted) == count == len({j.id for j in counted})
        assert all(j.status is JobStatus.SUCCEEDED for j in counted)
        assert set(plugin.ran_by.values()) == {"worker-0", "worker-1"}  # both took a share
        with runtimes[0].session() as session:
            page = jobs.list_jobs(session, name="test.count", limit=1000)
        assert {j.status for j in page.items} == {JobStatus.SUCCEEDED}
    finally:
        for rt in runtimes:
            rt.close()
