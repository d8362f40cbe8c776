"""Alert pages: the queue grouped by rule (filters, scope, bulk triage with undo, CSRF), an
alert's detail (escaped raw events, triage, suppress similar), suppressions and ingest health.

The queue is seeded with constructed matches through `alerts.record_matches` (the same entry
point the detection jobs use); `seed_queue` is shared with the browser test.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest

from civicshield import alerts, assets, telemetry
from civicshield.alerts import AlertFilter, AlertStatus
from civicshield.assets import AssetCreate
from civicshield.core import SYSTEM, Role, Sector
from civicshield.runtime import Runtime
from tests.integration.web.support import csrf_from, post_form

XSS = "<script>alert(1)</script>"
CAMERA_RULE = "cs-camera-telnet-bruteforce"
MODBUS_RULE = "cs-modbus-write-public-wifi"
RANSOM_RULE = "cs-win-shadowcopy-delete"


def _matches(
    rule: str,
    title: str,
    level: str,
    tags: list[str],
    dataset: str,
    start: datetime,
    rows: list[dict[str, str]],
) -> pl.DataFrame:
    n = len(rows)
    frame: dict[str, Any] = {
        "rule_id": [rule] * n,
        "rule_title": [title] * n,
        "level": [level] * n,
        "author": ["CivicShield test rules"] * n,
        "tags": [tags] * n,
        "event.dataset": [dataset] * n,
        "@timestamp": [start + timedelta(seconds=7 * i) for i in range(n)],
        "_line": list(range(1, n + 1)),
        "_source": [f"{dataset}.log"] * n,
    }
    for name in (
        "_raw",
        "host.name",
        "source.ip",
        "user.name",
        "destination.ip",
        "destination.port",
    ):
        frame[name] = [r.get(name) for r in rows]
    return pl.DataFrame(frame, schema_overrides={"@timestamp": pl.Datetime("us", "UTC")})


def seed_queue(rt: Runtime, now: datetime, tag: str = "") -> dict[str, int]:
    """A small realistic queue: telnet brute force on two plaza cameras (public safety), a Modbus
    write to a pump PLC from the public Wi-Fi (water), and shadow copies deleted on a finance
    workstation (governance). Returns alert ids by name. `tag` keeps names unique per test."""
    made = {}
    for name, sector, ip, host in (
        ("cam-plaza-01", "public_safety", "10.40.1.11", "cam-plaza-01.city"),
        ("cam-plaza-02", "public_safety", "10.40.1.12", "cam-plaza-02.city"),
        ("plc-pump-03", "water", "10.60.3.3", "plc-pump-03.city"),
        ("ws-fin-12", "governance", "10.10.5.12", "ws-fin-12.city"),
    ):
        data = AssetCreate.model_validate(
            {
                "name": name + tag,
                "sector": sector,
                "kind": "it",
                "ips": [ip],
                "hostnames": [host.replace(".", f"{tag}.", 1)],
            }
        )
        with rt.session() as session:
            made[name] = assets.create_asset(session, data, actor=SYSTEM, clock=rt.clock).id
    # Mid-window (windows are whole hours by event time), so a seed never straddles a window
    # boundary and splits one attacker's matches into two alerts.
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(minutes=30)
    telnet = [
        {
            "_raw": f"conn 203.0.113.9 -> {ip}:23 login failed {XSS}",
            "source.ip": "203.0.113.9",
            "destination.ip": ip,
            "destination.port": "23",
        }
        for ip in ("10.40.1.11",) * 6 + ("10.40.1.12",) * 4
    ]
    # Two attackers: the dedup key (rule + source.ip) makes one alert per attacker.
    telnet[6:] = [{**r, "source.ip": "198.51.100.7"} for r in telnet[6:]]
    modbus = [
        {
            "_raw": "modbus write_single_register unit=1 reg=40001 from 172.16.90.44",
            "source.ip": "172.16.90.44",
            "destination.ip": "10.60.3.3",
            "destination.port": "502",
        }
    ] * 3
    ransom = [
        {
            "_raw": "vssadmin.exe delete shadows /all /quiet",
            "host.name": f"ws-fin-12{tag}.city",
            "user.name": "jdoe",
        }
    ] * 2
    frame = pl.concat(
        [
            _matches(
                CAMERA_RULE,
                "Telnet brute force against a camera",
                "high",
                ["attack.credential-access", "attack.t1110"],
                "zeek.conn",
                start,
                telnet,
            ),
            _matches(
                MODBUS_RULE,
                "Modbus write from the public Wi-Fi",
                "critical",
                ["attack.impair-process-control", "attack.t0836"],
                "zeek.modbus",
                start,
                modbus,
            ),
            _matches(
                RANSOM_RULE,
                "Shadow copies deleted (ransomware precursor)",
                "high",
                ["attack.impact", "attack.t1490"],
                "windows.security",
                start,
                ransom,
            ),
        ],
        how="diagonal_relaxed",
    )
    with rt.session() as session:
        alerts.record_matches(session, frame, batch_id=f"seed{tag}", clock=rt.clock)
        found = alerts.list_alerts(session, AlertFilter(statuses=[]), limit=100)
    ids: dict[str, int] = {}
    for a in found.items:
        if a.rule_id == CAMERA_RULE:
            ids["telnet_" + a.key_fields["source.ip"]] = a.id
        elif a.rule_id == MODBUS_RULE:
            ids["modbus"] = a.id
        else:
            ids["ransom"] = a.id
    return ids


def _status(rt: Runtime, alert_id: int) -> AlertStatus:
    with rt.session() as session:
        return alerts.get_alert(session, alert_id).status


def _rows(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-testid="alert-row-(\d+)"', html)}


@pytest.fixture
def queue(runtime: Runtime) -> dict[str, int]:
    return seed_queue(runtime, runtime.clock.now())


def test_queue_groups_by_rule_and_filters_narrow(as_role: Any, queue: dict[str, int]) -> None:
    client = as_role(Role.ANALYST)
    html = client.get("/alerts").text
    assert _rows(html) == set(queue.values())
    assert 'data-testid="nav-alerts"' in html and "T1110" in html
    assert "Telnet brute force against a camera" in html and "High" in html  # label, not colour
    assert "10 events" in html and "2 alerts" in html  # the camera group: two attackers
    critical = client.get("/alerts?severity=critical").text
    assert _rows(critical) == {queue["modbus"]}
    assert _rows(client.get("/alerts?sector=governance").text) == {queue["ransom"]}
    assert _rows(client.get("/alerts?dataset=zeek.conn").text) == {
        queue["telnet_203.0.113.9"],
        queue["telnet_198.51.100.7"],
    }
    assert _rows(client.get("/alerts?technique=T1490").text) == {queue["ransom"]}
    assert _rows(client.get("/alerts?tactic=impact").text) == {queue["ransom"]}
    assert _rows(client.get("/alerts?q=jdoe").text) == {queue["ransom"]}
    assert _rows(client.get("/alerts?status=closed").text) == set()
    assert _rows(client.get("/alerts?since=1h").text) == set(queue.values())


def test_bulk_actions_change_statuses_and_undo(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    client = as_role(Role.ANALYST)
    ack = post_form(
        client,
        "/alerts",
        "/alerts/triage",
        {
            "action": "acknowledge",
            "ids": [queue["modbus"], queue["ransom"]],
            "next": "/alerts?severity=high",
        },
    )
    assert ack.status_code == 303 and ack.headers["location"].startswith("/alerts?severity=high&")
    assert _status(runtime, queue["modbus"]) is AlertStatus.ACKNOWLEDGED
    shown = client.get(ack.headers["location"]).text
    assert 'data-testid="undo"' in shown and "2 alert(s)" in shown
    undo = client.post(
        "/alerts/undo",
        data={
            "csrf_token": csrf_from(shown),
            "ids": re.findall(r'name="ids" value="(\d+)"', shown.split("undo-form")[1])[:2],
            "next": "/alerts",
        },
        follow_redirects=False,
    )
    assert undo.status_code == 303 and "undone=2" in undo.headers["location"]
    assert _status(runtime, queue["modbus"]) is AlertStatus.NEW
    # A whole group: its checkbox carries every alert id of the rule.
    group = re.search(
        r'name="group" value="([\d,]+)"', client.get("/alerts?dataset=zeek.conn").text
    )
    assert group is not None
    closed = post_form(
        client,
        "/alerts",
        "/alerts/triage",
        {
            "action": "close",
            "resolution": "false_positive",
            "group": group.group(1),
            "reason": "pen test",
        },
    )
    assert closed.status_code == 303
    assert _status(runtime, queue["telnet_198.51.100.7"]) is AlertStatus.CLOSED
    no_resolution = post_form(
        client, "/alerts", "/alerts/triage", {"action": "close", "ids": queue["ransom"]}
    )
    assert no_resolution.status_code == 409 and 'data-testid="bulk-error"' in no_resolution.text
    nothing = post_form(client, "/alerts", "/alerts/triage", {"action": "escalate"})
    assert nothing.status_code == 422 and _status(runtime, queue["ransom"]) is AlertStatus.NEW


def test_csrf_is_refused_without_token(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    client = as_role(Role.ANALYST)
    for url in ("/alerts/triage", f"/alerts/{queue['modbus']}/triage"):
        response = client.post(
            url, data={"action": "acknowledge", "ids": queue["modbus"]}, follow_redirects=False
        )
        assert response.status_code == 403
    assert _status(runtime, queue["modbus"]) is AlertStatus.NEW


def test_sector_operator_sees_only_their_sectors(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    client = as_role(Role.SECTOR_OPERATOR, sectors=[Sector.WATER])
    assert _rows(client.get("/alerts").text) == {queue["modbus"]}
    assert client.get(f"/alerts/{queue['ransom']}").status_code == 404
    refused = post_form(
        client, "/alerts", "/alerts/triage", {"action": "escalate", "ids": [queue["ransom"]]}
    )
    assert refused.status_code == 409 and _status(runtime, queue["ransom"]) is AlertStatus.NEW
    ok = post_form(
        client,
        f"/alerts/{queue['modbus']}",
        f"/alerts/{queue['modbus']}/triage",
        {"action": "escalate"},
    )
    assert ok.status_code == 303 and _status(runtime, queue["modbus"]) is AlertStatus.ESCALATED


def test_viewer_reads_but_cannot_triage(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    client = as_role(Role.VIEWER)
    page = client.get("/alerts")
    assert page.status_code == 200 and 'data-testid="bulk-form"' not in page.text
    detail = client.get(f"/alerts/{queue['ransom']}").text
    assert 'data-testid="triage-form"' not in detail and "suppress-form" not in detail
    token = csrf_from(page.text)
    for url, data in (
        ("/alerts/triage", {"action": "acknowledge", "ids": queue["ransom"]}),
        (f"/alerts/{queue['ransom']}/suppress", {"reason": "x", "rule": "1"}),
    ):
        response = client.post(url, data={"csrf_token": token, **data}, follow_redirects=False)
        assert response.status_code == 403
    assert _status(runtime, queue["ransom"]) is AlertStatus.NEW


def test_detail_escapes_raw_events_and_shows_the_rule(as_role: Any, queue: dict[str, int]) -> None:
    client = as_role(Role.ANALYST)
    html = client.get(f"/alerts/{queue['telnet_203.0.113.9']}").text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'data-testid="alert-rule-author">CivicShield test rules' in html
    assert "T1110" in html and 'href="/assets/' in html
    hunt = re.search(r'data-testid="alert-hunt-link"', html)
    assert hunt and "/hunt?sql=SELECT" in html and "dataset=zeek.conn" in html
    assert client.get("/alerts/999999").status_code == 404


def test_detail_triage_undo_and_suppress_similar(
    runtime: Runtime, as_role: Any, queue: dict[str, int]
) -> None:
    client = as_role(Role.ANALYST)
    url = f"/alerts/{queue['ransom']}"
    done = post_form(
        client,
        url,
        url + "/triage",
        {"action": "close", "resolution": "benign", "reason": "backup job"},
    )
    assert done.status_code == 303 and _status(runtime, queue["ransom"]) is AlertStatus.CLOSED
    assert 'data-testid="undo"' in client.get(done.headers["location"]).text
    assert post_form(client, url, url + "/undo").status_code == 303
    assert _status(runtime, queue["ransom"]) is AlertStatus.NEW
    bad = post_form(client, url, url + "/suppress", {"rule": "1", "reason": "ok", "days": "0"})
    assert bad.status_code == 422 and 'data-testid="error-days"' in bad.text
    suppressed = post_form(
        client,
        url,
        url + "/suppress",
        {
            "rule": "1",
            "field": ["user.name"],
            "value:user.name": "jdoe",
            "reason": "IT backup agent",
            "days": "7",
        },
    )
    assert suppressed.status_code == 303
    with runtime.session() as session:
        rows = alerts.list_suppressions(session, clock=runtime.clock)
    assert [(s.rule_id, s.match, s.reason) for s in rows] == [
        (RANSOM_RULE, {"user.name": "jdoe"}, "IT backup agent")
    ]
    listing = client.get("/alerts/suppressions").text
    assert "IT backup agent" in listing
    removed = post_form(client, "/alerts/suppressions", f"/alerts/suppressions/{rows[0].id}/delete")
    assert removed.status_code == 303
    with runtime.session() as session:
        assert alerts.list_suppressions(session, clock=runtime.clock) == []


def test_ingest_health_lists_sources_and_sets_intervals(runtime: Runtime, as_role: Any) -> None:
    lines = [(1, b'{"ts": 1763812800, "id.orig_h": "10.0.0.5"}'), (2, b"{broken")]
    with runtime.session() as session:
        telemetry.intake(
            session,
            runtime.settings,
            registry=runtime.jobs,
            clock=runtime.clock,
            kind="http",
            source="zeek.conn@sensor",
            lines=lines,
            fmt=telemetry.format_for_dataset("zeek.conn"),
            dataset="zeek.conn",
        )
        source = telemetry.list_sources(session, clock=runtime.clock)[0]
    client = as_role(Role.ANALYST)
    html = client.get("/alerts/health").text
    assert f'data-testid="source-row-{source.id}"' in html and 'href="/hunt/quarantine"' in html
    assert "Learning its rhythm" in html or "Reporting" in html
    bad = post_form(client, "/alerts/health", f"/alerts/health/{source.id}", {"minutes": "0"})
    assert bad.status_code == 422 and f'data-testid="interval-error-{source.id}"' in bad.text
    ok = post_form(client, "/alerts/health", f"/alerts/health/{source.id}", {"minutes": "15"})
    assert ok.status_code == 303
    with runtime.session() as session:
        got = telemetry.list_sources(session, clock=runtime.clock)[0]
    assert got.expected_interval_seconds == 900
    responder = as_role(Role.RESPONDER, "rita")
    assert 'data-testid="interval-form-' not in responder.get("/alerts/health").text
