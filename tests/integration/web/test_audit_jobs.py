"""Audit log viewer and chain check; the job queue with its actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from civicshield import jobs
from civicshield.core import FrozenClock, Role
from civicshield.runtime import Runtime
from tests.conftest import make_user
from tests.integration.web.support import post_form


def test_audit_log_filters(admin_client: Any, runtime: Runtime) -> None:
    make_user(runtime, "ana", Role.ANALYST)
    page = admin_client.get("/audit").text
    assert "user.create" in page and "auth.login" in page
    only_logins = admin_client.get("/audit?action=auth.").text
    assert "auth.login" in only_logins and "<code>user.create</code>" not in only_logins
    by_actor = admin_client.get("/audit?actor=nobody").text
    assert 'data-testid="audit-empty"' in by_actor
    future = admin_client.get("/audit?since=2030-01-01").text
    assert 'data-testid="audit-empty"' in future
    today = admin_client.get("/audit?since=2026-11-22&until=2026-11-22").text
    assert "user.create" in today
    assert '<time datetime="2026-11-22T12:00:00+00:00">' in page


def test_times_follow_the_users_zone(admin_client: Any) -> None:
    # Test users start in UTC; Babel separates the time and "PM" with a narrow no-break space.
    assert "11/22/26, 12:00\u202fPM" in admin_client.get("/audit").text
    saved = post_form(
        admin_client,
        "/profile",
        "/profile",
        {
            "display_name": "Admin",
            "language": "en",
            "timezone": "America/Mexico_City",
            "theme": "system",
        },
    )
    assert saved.status_code == 303
    page = admin_client.get("/audit").text
    assert "11/22/26, 6:00\u202fAM" in page and "12:00\u202fPM" not in page
    assert "Times are shown in America/Mexico_City." in page


def test_verify_chain_ok_and_broken(admin_client: Any, runtime: Runtime) -> None:
    ok = post_form(admin_client, "/audit", "/audit/verify")
    assert ok.status_code == 200 and 'data-testid="verify-ok"' in ok.text
    with runtime.db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entry SET summary = 'tampered' WHERE seq = 1"))
    broken = post_form(admin_client, "/audit", "/audit/verify")
    assert 'data-testid="verify-broken"' in broken.text
    assert "The chain is broken at entry 1." in broken.text


def test_analyst_reads_but_cannot_verify(as_role: Any) -> None:
    analyst = as_role(Role.ANALYST)
    page = analyst.get("/audit").text
    assert 'data-testid="audit-verify"' not in page
    assert post_form(analyst, "/audit", "/audit/verify").status_code == 403


def test_jobs_list_detail_run_cancel_retry(admin_client: Any, runtime: Runtime) -> None:
    page = admin_client.get("/jobs").text
    assert 'data-testid="definition-audit.verify"' in page
    queued = post_form(admin_client, "/jobs", "/jobs/run", {"name": "audit.verify"})
    assert queued.status_code == 303
    job_url = queued.headers["location"]
    detail = admin_client.get(job_url).text
    assert "The job was queued." in detail and 'data-testid="job-cancel"' in detail
    cancelled = post_form(admin_client, job_url, f"{job_url}/cancel")
    assert cancelled.status_code == 303
    detail = admin_client.get(job_url).text
    assert "Cancelled" in detail and 'data-testid="job-retry"' in detail
    retried = post_form(admin_client, job_url, f"{job_url}/retry")
    assert retried.status_code == 303
    assert "Queued" in admin_client.get(job_url).text
    only_failed = admin_client.get("/jobs?status=failed").text
    assert 'data-testid="job-empty"' in only_failed


def test_job_log_lines_are_shown(admin_client: Any, runtime: Runtime) -> None:
    assert isinstance(runtime.clock, FrozenClock)
    with runtime.session() as session:
        job = jobs.enqueue(session, "audit.verify", registry=runtime.jobs, clock=runtime.clock)
    runtime.clock.advance(timedelta(seconds=1))
    jobs.run_next(
        runtime.session,
        registry=runtime.jobs,
        clock=runtime.clock,
        worker="t",
        services=runtime.services,
    )
    detail = admin_client.get(f"/jobs/{job.id}").text
    assert "audit chain intact" in detail and "Succeeded" in detail
    dashboard = admin_client.get("/").text
    assert 'data-testid="chain-status"' in dashboard and "Intact at the last check" in dashboard


def test_responder_sees_jobs_without_actions(as_role: Any) -> None:
    page = as_role(Role.RESPONDER).get("/jobs").text
    assert 'data-testid="job-run-audit.verify"' not in page


def test_unknown_job_name_is_404(admin_client: Any) -> None:
    assert post_form(admin_client, "/jobs", "/jobs/run", {"name": "nope"}).status_code == 404
