"""MISP `ip-src|port` / `ip-dst|port` attributes become the STIX AND pattern misp-stix writes
(`[network-traffic:dst_ref.value = 'ip' AND network-traffic:dst_port = p]`), compile to one
address-and-port lookup and match only a flow that carries both; other ANDs and the MISP types
without a matchable form are reported with the reason. Also: `intel_decay_days` reaches the
CLI's imports and the daily `intel.ageing` job."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from civicshield import intel
from civicshield.core import SYSTEM
from civicshield.detect.indicators import IndicatorIndex, Lookup, PatternError, compile_pattern
from civicshield.intel.jobs import AGEING_JOB, JOBS
from civicshield.intel.misp import pattern_for
from civicshield.intel.models import IntelIndicator
from civicshield.migrations import upgrade
from civicshield.runtime import Runtime

from .conftest import bundle, indicator

EVENT = {
    "Event": {
        "uuid": "5e1f6c2a-3d4b-4c5d-8e9f-0a1b2c3d4e5f",
        "info": "camera botnet C2",
        "timestamp": "1793491200",
        "distribution": "1",
        "Orgc": {"name": "Ciudad Vecina", "uuid": "0b7b6f7e-1c2d-4e3f-8a9b-0c1d2e3f4a5b"},
        "Attribute": [
            {
                "uuid": "a0000000-0000-4000-8000-000000000001",
                "type": "ip-dst|port",
                "value": "203.0.113.9|8080",
                "to_ids": True,
                "timestamp": "1793491200",
            },
            {
                "uuid": "a0000000-0000-4000-8000-000000000002",
                "type": "ip-src|port",
                "value": "2001:db8::66|4444",
                "to_ids": True,
                "timestamp": "1793491200",
            },
            {
                "uuid": "a0000000-0000-4000-8000-000000000003",
                "type": "domain|ip",
                "value": "c2.example|203.0.113.9",
                "to_ids": True,
                "timestamp": "1793491200",
            },
            {
                "uuid": "a0000000-0000-4000-8000-000000000004",
                "type": "ip-dst|port",
                "value": "203.0.113.10|http",
                "to_ids": True,
                "timestamp": "1793491200",
            },
        ],
    }
}


@pytest.mark.parametrize(
    ("kind", "value", "lookup"),
    [
        ("ip-dst|port", "203.0.113.9|8080", Lookup("dst_ip_port", "203.0.113.9/32|8080")),
        ("ip-src|port", "198.51.100.4|23", Lookup("src_ip_port", "198.51.100.4/32|23")),
        ("ip-dst|port", "2001:db8::1|443", Lookup("dst_ip_port", "2001:db8::1/128|443")),
    ],
)
def test_ip_port_attributes_compile_to_one_pair_lookup(
    kind: str, value: str, lookup: Lookup
) -> None:
    assert compile_pattern(pattern_for(kind, value)) == (lookup,)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("[ipv4-addr:value = '1.2.3.4' AND network-traffic:dst_port = 80]", "same side"),
        (
            "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:src_port = 80]",
            "same side",
        ),
        (
            "[network-traffic:dst_ref.value = '1.2.3.4' AND network-traffic:dst_port = 80 AND "
            "network-traffic:dst_port = 81]",
            "same side",
        ),
        (
            "[network-traffic:dst_ref.type = 'ipv6-addr' AND network-traffic:dst_ref.value = "
            "'1.2.3.4' AND network-traffic:dst_port = 80]",
            "does not agree",
        ),
        ("[network-traffic:src_port = 80]", "src_port alone"),
        ("[network-traffic:dst_ref.type = 'ipv4-addr']", "alone says nothing"),
    ],
)
def test_other_ands_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError, match=reason):
        compile_pattern(pattern)


def test_imported_pairs_match_one_flow_carrying_both(runtime: Runtime) -> None:
    with runtime.session() as s:
        report = intel.import_misp_event(
            s, EVENT, location="event.json", actor=SYSTEM, clock=runtime.clock
        )
        rows = {r.stix_id[-1]: r for r in s.scalars(select(IntelIndicator))}
        index = intel.indicator_index(s, runtime.clock.now())
    assert [r.reason for r in report.refused] == [
        "MISP type 'domain|ip' has no STIX pattern mapping",
        "ip-dst|port value '203.0.113.10|http' has no port after '|'",
    ]
    assert (rows["1"].kind, rows["1"].not_matchable) == ("dst_ip_port", "")
    assert (rows["2"].kind, rows["2"].not_matchable) == ("src_ip_port", "")
    flows = pl.DataFrame(
        {
            "source.ip": ["10.0.0.5", "10.0.0.5", "203.0.113.9", "2001:db8::66", "2001:db8::66"],
            "source.port": [50000, 50001, 8080, 4444, 4445],
            "destination.ip": [
                "203.0.113.9",
                "203.0.113.9",
                "10.0.0.5",
                "2001:db8::1",
                "2001:db8::1",
            ],
            "destination.port": [8080, 443, 50002, 443, 443],
        }
    )
    hits = index.match(flows).sort("event_index")
    assert hits.select("event_index", "indicator").rows() == [
        (0, "indicator--a0000000-0000-4000-8000-000000000001"),
        (3, "indicator--a0000000-0000-4000-8000-000000000002"),
    ]
    assert hits.get_column("value").to_list() == ["203.0.113.9:8080", "[2001:db8::66]:4444"]


def test_pairs_of_networks_match_by_prefix() -> None:
    index = IndicatorIndex.build(
        [
            (
                "i",
                compile_pattern(
                    "[network-traffic:dst_ref.value = '198.51.100.0/24' AND "
                    "network-traffic:dst_port = 23]"
                ),
            )
        ]
    )
    flows = pl.DataFrame(
        {
            "destination.ip": ["198.51.100.77", "198.51.101.77", "198.51.100.77"],
            "destination.port": [23, 23, 24],
        }
    )
    assert index.match(flows).get_column("event_index").to_list() == [0]


# ---- intel_decay_days: CLI imports and the daily ageing job ------------------------------


@pytest.fixture
def _restore_logging() -> Iterator[None]:
    logger = logging.getLogger("civicshield")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.mark.usefixtures("_restore_logging")
def test_cli_import_uses_the_decay_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicshield.cli import app

    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    path = tmp_path / "b.json"
    ip = indicator(
        "[ipv4-addr:value = '198.51.100.7']",
        ident=f"indicator--{'1' * 8}-1111-4111-8111-{'1' * 12}",
    )
    dom = indicator("[domain-name:value = 'kraken-iot.example']")
    path.write_text(json.dumps(bundle(ip, dom)), encoding="utf-8")
    env = {k: None for k in __import__("os").environ if k.startswith("CIVICSHIELD_")}
    env.update(
        {
            "CIVICSHIELD_DATA_DIR": str(tmp_path / "var"),
            "CIVICSHIELD_DATABASE_URL": url,
            "CIVICSHIELD_SECRET_KEY": "test-secret-key-0123456789abcdef",
            "CIVICSHIELD_ENVIRONMENT": "test",
            "CIVICSHIELD_WORKER_IN_PROCESS": "false",
            "CIVICSHIELD_INTEL_DECAY_DAYS": '{"ipv4": 2, "domain": 5}',
        }
    )
    result = CliRunner().invoke(app, ["intel", "import", str(path), "--json"], env=env)
    assert result.exit_code == 0, result.output
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine(url)
    try:
        with Session(engine) as s:
            rows = {r.kind: r for r in s.scalars(select(IntelIndicator))}
    finally:
        engine.dispose()
    start = rows["ipv4"].valid_from
    assert start is not None
    assert rows["ipv4"].expires_at == start + timedelta(days=2)
    assert rows["domain"].expires_at == start + timedelta(days=5)


class _Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(message)


def test_the_daily_ageing_job_reapplies_the_setting(runtime: Runtime) -> None:
    (job,) = [j for j in JOBS if j.name == AGEING_JOB]
    assert job.every_seconds == 86_400
    with runtime.session() as s:
        intel.import_stix(
            s,
            bundle(indicator("[ipv4-addr:value = '198.51.100.7']")),
            location="a",
            actor=SYSTEM,
            clock=runtime.clock,
        )
        row = s.scalars(select(IntelIndicator)).one()
        assert row.valid_from is not None
        assert row.expires_at == row.valid_from + timedelta(days=30)  # the default for ipv4
        settings = runtime.settings.model_copy(update={"intel_decay_days": {"ipv4": 7}})
        ctx: Any = type(
            "Ctx",
            (),
            {
                "session": s,
                "log": _Log(),
                "args": {},
                "clock": runtime.clock,
                "services": {"settings": settings},
            },
        )()
        assert job.run(ctx) == {"changed": 1}
        assert row.expires_at == row.valid_from + timedelta(days=7)
        assert job.run(ctx) == {"changed": 0}
        assert "1 indicator expiries changed" in ctx.log.lines[0]
