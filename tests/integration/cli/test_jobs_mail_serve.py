"""`civicshield jobs …`, `worker run --once`, `mail test` and `serve`."""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from civicshield import jobs
from civicshield.cli import serve as serve_module
from tests.harness import SmtpServer, free_port

from .conftest import Cli


def test_worker_run_once_runs_a_queued_job(initialised: Cli) -> None:
    cli = initialised
    queued = cli.json("jobs", "enqueue", "audit.verify")
    assert queued["status"] == "queued" and queued["requested_by"] == "cli:tester"
    assert cli.json("jobs", "list", "--status", "queued")["total"] == 1

    ran = cli.json("worker", "run", "--once")
    by_id = {job["id"]: job for job in ran["jobs"]}
    assert by_id[queued["id"]]["status"] == "succeeded"
    # The scheduled jobs (audit.verify daily, session pruning hourly, …) were due too; the
    # daily vulnerability sync waits an hour after the schedule is created.
    assert {job["name"] for job in ran["jobs"]} == {
        "audit.verify",
        "accounts.prune_sessions",
        "vulns.expire_acceptances",
        "vulns.risk_snapshot",
        "telemetry.health",
        "telemetry.demo_stream",
        "incidents.reminders",
    }

    shown = cli.json("jobs", "show", str(queued["id"]))
    assert shown["job"]["result"]["ok"] is True
    assert [line["message"] for line in shown["log"]] == ["audit chain intact: 1 entries checked"]
    human = cli.ok("jobs", "show", str(queued["id"])).stdout
    assert "succeeded" in human and "audit chain intact" in human
    assert "no job was due" in cli.ok("worker", "run", "--once").stdout
    assert cli.json("jobs", "list", "--status", "succeeded")["total"] == 8


def test_failed_job_is_shown_with_its_error_and_can_be_retried(initialised: Cli) -> None:
    cli = initialised
    job = cli.json(
        "jobs",
        "enqueue",
        "mail.send",
        "--arg",
        'to=["ciso@ciudad-demo.example"]',
        "--arg",
        "subject=Prueba",
        "--arg",
        "text=hola",
    )
    assert job["args"] == {"to": ["ciso@ciudad-demo.example"], "subject": "Prueba", "text": "hola"}
    cli.ok("worker", "run", "--once")
    shown = cli.json("jobs", "show", str(job["id"]))
    assert shown["job"]["status"] == "queued" and shown["job"]["attempts"] == 1
    assert "mail is not configured" in shown["job"]["error"]
    assert any(line["level"] == "ERROR" for line in shown["log"])
    assert "cancelled" in cli.ok("jobs", "cancel", str(job["id"])).stdout
    assert "queued again" in cli.ok("jobs", "retry", str(job["id"])).stdout


def test_jobs_errors(initialised: Cli) -> None:
    cli = initialised
    unknown = cli("jobs", "enqueue", "no.such.job")
    assert unknown.exit_code == 1 and "no job named 'no.such.job' (known jobs:" in unknown.stderr
    assert "not key=value" in cli("jobs", "enqueue", "audit.verify", "--arg", "x").stderr
    assert "'lost' is not a valid job status" in cli("jobs", "list", "--status", "lost").stderr
    assert cli("jobs", "show", "404").stderr == "error: job 404 does not exist\n"


def test_mail_test_sends_through_the_configured_server(cli: Cli) -> None:
    with SmtpServer() as server:
        env = {
            "CIVICSHIELD_SMTP_HOST": server.host,
            "CIVICSHIELD_SMTP_PORT": str(server.port),
            "CIVICSHIELD_SMTP_SECURITY": "none",
            "CIVICSHIELD_MAIL_FROM": "soc@ciudad.example",
        }
        sent = cli.json("mail", "test", "--to", "ciso@ciudad-demo.example", env=env)
        (received,) = server.wait_for(1)
    assert received.rcpt_tos == ("ciso@ciudad-demo.example",)
    assert received.message["Message-ID"] == sent["message_id"]
    assert "CivicShield test mail" in str(received.message["Subject"])


def test_mail_test_errors(cli: Cli) -> None:
    unconfigured = cli("mail", "test", "--to", "ciso@ciudad-demo.example")
    assert unconfigured.stderr == "error: mail is not configured: set CIVICSHIELD_SMTP_HOST\n"
    bad = cli("mail", "test", "--to", "not-an-address")
    assert bad.stderr == "error: 'not-an-address' is not an e-mail address\n"
    closed = cli(
        "mail",
        "test",
        "--to",
        "a@ciudad-demo.example",
        env={
            "CIVICSHIELD_SMTP_HOST": "127.0.0.1",
            "CIVICSHIELD_SMTP_PORT": str(free_port()),
            "CIVICSHIELD_SMTP_SECURITY": "none",
        },
    )
    assert closed.exit_code == 1 and "refused or failed" in closed.stderr


def test_serve_builds_the_app_and_prints_the_url(
    initialised: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[Any, Any]] = []
    monkeypatch.setattr(
        serve_module, "_run_uvicorn", lambda app, settings, level: started.append((app, settings))
    )
    port = free_port()
    result = initialised.ok("serve", "--port", str(port), "--no-worker")
    assert f"Open http://127.0.0.1:{port}/" in result.stdout
    ((app, settings),) = started
    assert settings.port == port and settings.worker_in_process is False
    assert app.state.runtime.settings is settings


def test_serve_refuses_a_port_in_use(initialised: Cli) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = initialised("serve", "--port", str(port))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr


def test_worker_run_loops_until_interrupted(initialised: Cli) -> None:
    cli = initialised
    queued = cli.json("jobs", "enqueue", "audit.verify")

    def interrupt_once_the_job_ran() -> None:
        # The job having run proves the loop (and so its signal handler) is in place.
        rt = cli.runtime()
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with rt.session() as session:
                    if jobs.get_job(session, queued["id"]).status is jobs.JobStatus.SUCCEEDED:
                        break
                time.sleep(0.05)
        finally:
            rt.close()
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt_once_the_job_ran)
    thread.start()
    result = cli.ok("worker", "run", "--poll", "0.1")
    thread.join()
    assert "worker stopped" in result.stdout
    assert "received SIGINT, stopping" in result.stderr
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
