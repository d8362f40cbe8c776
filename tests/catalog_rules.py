"""A small rule set for the rule catalogue's web and API tests, installed where
`civicshield rules update` puts SigmaHQ's pack (`<data_dir>/rules/sigmahq`), so the tests never
read the shared SigmaHQ tree."""

from __future__ import annotations

from pathlib import Path

from civicshield.core import Settings
from tests.unit.detect.rulefiles import rule_yaml, write_rule

__all__ = ["FILTER", "FILTER_YAML", "HOSTILE", "LOW", "PS", "install_rules", "write_base_rules"]

PS = "11111111-1111-4111-8111-111111111111"
LOW = "22222222-2222-4222-8222-222222222222"
FILTER = "33333333-3333-4333-8333-333333333333"
HOSTILE = "55555555-5555-4555-8555-555555555555"

FILTER_YAML = f"""title: Leave the admins out
id: {FILTER}
status: experimental
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - {PS}
    selection:
        User: admin
    condition: not selection
"""


def write_base_rules(pack: Path) -> None:
    """PowerShell (high, T1059.001), Calc (low, stable, no author) and a filter rule (the
    engine does not run it) under `pack`."""
    write_rule(pack, "windows/process_creation/ps.yml", rule_yaml(PS, title="PowerShell run"))
    write_rule(
        pack,
        "windows/process_creation/low.yml",
        rule_yaml(
            LOW,
            title="Calc started",
            level="low",
            status="stable",
            tags=("attack.discovery", "attack.t1082"),
            author=None,
        ),
    )
    write_rule(pack, "windows/filters/admins.yml", FILTER_YAML)


def install_rules(settings: Settings) -> Path:
    """The base rules and one whose title and author carry HTML."""
    pack = settings.data_dir / "rules" / "sigmahq"
    write_base_rules(pack)
    write_rule(
        pack,
        "windows/hostile.yml",
        rule_yaml(
            HOSTILE,
            title="'<script>alert(1)</script>'",
            level="critical",
            author="'<b>Mallory</b> & co'",
        ),
    )
    return pack
