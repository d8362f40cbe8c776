"""Retro-detection (issue 5): SigmaHQ rules over real network samples ingested into the event
store, and a constructed rule over a constructed store with a time window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from civicshield.detect import load_rules
from civicshield.detect.engine import CompiledRuleSet, compile_rules
from civicshield.detect.engine.mappings import LOGSOURCE_FIELDS, mapping_named
from civicshield.detect.eventstore import EventStore
from civicshield.detect.ingest import ingest_file
from civicshield.detect.quarantine import QuarantineStore
from civicshield.detect.retro import LOGSOURCE_COLUMNS, dataset_logsource, retro_batches
from tests.conftest import SHARED_DATA

NETLOGS = SHARED_DATA / "netlogs"
SIGMA = SHARED_DATA / "sigma" / "rules"
# zeek-zat dns.log lines 57-59: Z = 1, query j.maxmind.com (A, port 53, answer an address):
# "Suspicious DNS Z Flag Bit Set" (rules/network/zeek/zeek_dns_susp_zbit_flag.yml)
Z_FLAG_RULE = "ede05abc-2c9e-4624-9944-9ff17fdc0bf5"
SAMPLES = [
    "zeek-zat/tsv/dns.log",
    "zeek-zat/json/dns.log",
    "zeek-zat/tsv/http.log",
    "zeek-zat/json/http.log",
    "zeek-wrccdc2018/tsv/dns.log",
    "zeek-wrccdc2018/tsv/notice.log",
    "zeek-wrccdc2018/tsv/ssl.log",
    "syslog/network-devices.log",
    "netflow-nfdump/flows.csv",
    *(f"suricata-eve/eve/{p.name}" for p in sorted((NETLOGS / "suricata-eve/eve").glob("*.json"))),
]


def _compile(*roots: Path) -> CompiledRuleSet:
    return compile_rules(load_rules(list(roots)).rules, mapping_named("combined"))


def _matches(store: EventStore, ruleset: CompiledRuleSet, **kw: object) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for batch in retro_batches(store, ruleset, batch_size=40, **kw):  # type: ignore[arg-type]
        for row in batch.matches.iter_rows(named=True):
            found.add((row["rule_id"], row["event.dataset"], str(row["_line"])))
    return found


def test_logsource_columns_match_the_mappings() -> None:
    assert LOGSOURCE_COLUMNS == LOGSOURCE_FIELDS


def test_dataset_logsource() -> None:
    assert dataset_logsource("zeek.dns") == {
        "logsource.product": "zeek",
        "logsource.service": "dns",
        "logsource.category": "dns",
    }
    assert dataset_logsource("zeek.smb_files") == {
        "logsource.product": "zeek",
        "logsource.service": "smb_files",
    }
    assert dataset_logsource("suricata.alert")["logsource.product"] == "suricata"
    assert dataset_logsource("syslog") == {"logsource.service": "syslog"}
    assert dataset_logsource("netflow") == dataset_logsource("cef") == {}
    assert dataset_logsource("windows") == {}


@pytest.mark.skipif(
    not (NETLOGS.is_dir() and SIGMA.is_dir()), reason=f"needs {NETLOGS} and {SIGMA}"
)
def test_sigmahq_network_rules_over_real_samples(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "events")
    quarantine = QuarantineStore(tmp_path / "quarantine")
    for name in SAMPLES:
        assert ingest_file(NETLOGS / name, store, quarantine).quarantined == 0
    # every network rule (zeek, category dns/firewall, cisco, fortigate, …) and the Linux
    # rules, whose product-only and syslog rules must not fire on network datasets
    ruleset = _compile(SIGMA / "network", SIGMA / "linux")
    found = _matches(store, ruleset)
    assert found == {(Z_FLAG_RULE, "zeek.dns", str(line)) for line in (57, 58, 59)}
    # the window: the zeek-zat capture is from September 2013
    assert _matches(store, ruleset, since=datetime(2014, 1, 1, tzinfo=UTC)) == set()
    assert _matches(store, ruleset, datasets=["zeek.http"]) == set()


RULE = """title: Lookup of a test domain
id: 6a1f4c0e-0000-4000-8000-000000000001
status: test
level: high
logsource:
    product: zeek
    service: dns
detection:
    selection:
        query|endswith: '.evil.example'
    condition: selection
"""


def test_constructed_rule_and_since_window(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "dns.yml").write_text(RULE, encoding="utf-8")
    ruleset = _compile(tmp_path / "rules")
    assert len(ruleset.rules) == 1
    now = datetime.now(UTC)
    store = EventStore(tmp_path / "events")

    def events(queries: list[str], stamps: list[datetime]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "@timestamp": pl.Series(stamps, dtype=pl.Datetime("us", "UTC")),
                "query": queries,
                "_line": list(range(1, len(queries) + 1)),
                "_raw": queries,
            }
        )

    old = now - timedelta(days=40)
    store.write(
        events(["a.evil.example", "b.evil.example", "fine.example"], [now, old, now]),
        "zeek.dns",
        now=now,
    )
    store.write(events(["c.evil.example"], [now]), "suricata.dns", now=now)  # not zeek
    store.write(events(["d.evil.example"], [now]), "zeek.http", now=now)  # not dns
    rule_id = ruleset.rules[0].rule.id
    assert _matches(store, ruleset) == {(rule_id, "zeek.dns", "1"), (rule_id, "zeek.dns", "2")}
    recent = list(retro_batches(store, ruleset, since=now - timedelta(days=30)))
    hits = pl.concat([b.matches for b in recent])
    assert hits.select("event.dataset", "_line", "_raw").rows() == [
        ("zeek.dns", 1, "a.evil.example")
    ]
    assert hits.get_column("@timestamp").to_list() == [now]
    # an event's own tag wins over the dataset's
    own = events(["e.evil.example"], [now]).with_columns(
        pl.lit("zeek").alias("logsource.product"), pl.lit("dns").alias("logsource.service")
    )
    store.write(own, "netflow", now=now)
    assert (rule_id, "netflow", "1") in _matches(store, ruleset)
