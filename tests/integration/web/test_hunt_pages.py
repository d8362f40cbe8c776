"""The hunting page: a query over a real event store, Polars' error beside the form, the CSV
download, saved hunts (save, run, edit, delete), the quarantine page and who may open it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import polars as pl
import pytest

from civicshield import audit
from civicshield.core import Role
from civicshield.detect.eventstore import EventStore
from civicshield.detect.quarantine import QuarantineStore
from civicshield.detect.readers.base import Quarantined
from civicshield.runtime import Runtime
from tests.integration.web.support import csrf_from, post_form

SQL = "SELECT port, count(*) AS n FROM events GROUP BY port ORDER BY n DESC, port"


@pytest.fixture
def store(runtime: Runtime) -> EventStore:
    events = EventStore(runtime.settings.data_dir / "events")
    stamps = pl.Series([datetime.now(UTC)] * 3, dtype=pl.Datetime("us", "UTC"))
    events.write(pl.DataFrame({"@timestamp": stamps, "port": ["23", "23", "80"]}), "zeek.conn")
    QuarantineStore(runtime.settings.data_dir / "quarantine").add(
        "syslog", [Quarantined("fw.log", "line 7", "no PRI", "<script>alert(1)</script>")]
    )
    return events


def hunt_url(**params: Any) -> str:
    return "/hunt?" + urlencode(params, doseq=True)


def test_run_a_query_and_download_it(store: EventStore, admin_client: Any) -> None:
    page = admin_client.get("/hunt")
    assert page.status_code == 200
    assert 'data-testid="nav-hunt"' in page.text and 'data-testid="store-zeek.conn"' in page.text
    assert 'data-testid="quarantine-syslog"' in page.text
    assert 'data-testid="hunt-result"' not in page.text
    result = admin_client.get(hunt_url(sql=SQL, since="1d", dataset="zeek.conn")).text
    assert 'data-testid="hunt-table"' in result and "hunt-truncated" not in result
    cells = re.findall(r"<td>([^<]*)</td>", result.split('data-testid="hunt-table"')[1])
    assert cells[:4] == ["23", "2", "80", "1"]
    cut = admin_client.get(hunt_url(sql=SQL, limit=1)).text
    assert 'data-testid="hunt-truncated"' in cut
    csv = admin_client.get("/hunt.csv", params={"sql": SQL, "dataset": "zeek.conn"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines() == ["port,n", "23,2", "80,1"]


def test_errors_are_shown_beside_the_form(store: EventStore, admin_client: Any) -> None:
    bad = admin_client.get(hunt_url(sql="SELECT nope FROM events"))
    assert bad.status_code == 422
    error = bad.text.split('data-testid="hunt-error"')[1]
    assert "hunt query failed" in error and "nope" in error
    assert "SELECT nope FROM events</textarea>" in bad.text  # the query stays in the form
    since = admin_client.get(hunt_url(sql=SQL, since="last week"))
    assert since.status_code == 422 and 'data-testid="error-since"' in since.text
    csv = admin_client.get("/hunt.csv", params={"sql": "SELECT nope FROM events"})
    assert 'data-testid="hunt-error"' in csv.text


def test_save_run_edit_and_delete_a_hunt(
    store: EventStore, admin_client: Any, as_role: Any, runtime: Runtime
) -> None:
    url = hunt_url(sql=SQL, since="1d", dataset="zeek.conn")
    data = {"sql": SQL, "since": "1d", "dataset": "zeek.conn", "name": "Telnet", "shared": "yes"}
    saved = post_form(admin_client, url, "/hunt/saved", data)
    assert saved.status_code == 303, saved.text
    target = saved.headers["location"]
    hunt_id = int(target.split("=")[1])
    page = admin_client.get(target).text
    assert f'data-testid="saved-run-{hunt_id}"' in page and 'data-testid="hunt-table"' in page
    again = post_form(admin_client, url, "/hunt/saved", data)
    assert (
        again.status_code == 422 and "You already have a saved hunt with this name." in again.text
    )
    other = as_role(Role.RESPONDER, "rob")  # shared: visible and runnable, not changeable
    theirs = other.get("/hunt").text
    assert f'saved-run-{hunt_id}"' in theirs and f"saved-delete-{hunt_id}" not in theirs
    assert 'data-testid="saved-read-only"' in other.get(f"/hunt/saved/{hunt_id}").text
    edit = f"/hunt/saved/{hunt_id}"
    changed = post_form(admin_client, edit, edit, {"name": "Telnet 2", "sql": SQL, "since": "2d"})
    assert changed.status_code == 303
    assert 'value="Telnet 2"' in admin_client.get(edit).text
    gone = post_form(admin_client, "/hunt", f"/hunt/saved/{hunt_id}/delete")
    assert gone.status_code == 303 and admin_client.get(edit).status_code == 404
    with runtime.session() as session:
        actions = [e.action for e in audit.list_entries(session, entity_type="saved_hunt").items]
    assert sorted(actions) == ["saved_hunt.create", "saved_hunt.delete", "saved_hunt.update"]


def test_quarantine_page_escapes_the_record(store: EventStore, admin_client: Any) -> None:
    page = admin_client.get("/hunt/quarantine?format=syslog")
    assert page.status_code == 200 and 'data-testid="quarantine-row"' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert "line 7" in page.text and "no PRI" in page.text
    assert 'data-testid="quarantine-none"' in admin_client.get("/hunt/quarantine?format=zeek").text


def test_viewers_are_refused_and_posts_need_csrf(
    store: EventStore, as_role: Any, admin_client: Any
) -> None:
    viewer = as_role(Role.VIEWER, "vera")
    for url in ("/hunt", "/hunt/quarantine", "/hunt.csv?sql=SELECT+1"):
        assert viewer.get(url).status_code == 403
    assert 'data-testid="nav-hunt"' not in viewer.get("/").text
    token = csrf_from(admin_client.get("/hunt").text)
    body = {"name": "x", "sql": SQL}
    refused = admin_client.post("/hunt/saved", data=body, follow_redirects=False)
    assert refused.status_code == 403
    ok = admin_client.post(
        "/hunt/saved", data={**body, "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303


def test_replay_from_the_quarantine_page(store: EventStore, admin_client: Any) -> None:
    page = admin_client.get("/hunt/quarantine?format=syslog")
    assert 'data-testid="replay"' in page.text
    token = csrf_from(page.text)
    done = admin_client.post(
        "/hunt/quarantine/replay",
        data={"format": "syslog", "csrf_token": token},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert 'data-testid="replay-result"' in done.text
    # "<script>…" is still not syslog: it stays, with the reader's current reason.
    assert 'data-testid="quarantine-row"' in done.text
