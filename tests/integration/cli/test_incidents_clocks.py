"""`civicshield incidents clocks|clock start|event|assess|hold|hold-lift`."""

from __future__ import annotations

from .conftest import Cli
from .test_incidents_evidence import new_case


def test_clocks_from_the_command_line(initialised: Cli) -> None:
    cli = initialised
    case = str(new_case(cli, "Records breach")["id"])
    for ob in ("qc-a21.cai", "qc-a21.persons", "gdpr.art33"):
        assert cli.json("incidents", "clock", "start", case, ob)["obligation_id"] == ob
    made = cli.json(
        "incidents", "event", case, "cause_to_believe", "--at", "2026-03-07 20:00",
        "--zone", "America/Toronto", "--note", "SOC call",
    )  # fmt: skip
    assert made["at"].startswith("2026-03-08T01:00")
    gap = cli("incidents", "event", case, "became_aware", "--at", "2026-03-08 02:30",
              "--zone", "America/Toronto")  # fmt: skip
    assert gap.exit_code != 0 and "does not exist in America/Toronto" in gap.output
    views = {v["obligation_id"]: v for v in cli.json("incidents", "clocks", case)}
    assert views["qc-a21.cai"]["due_at"].startswith("2026-03-11T01:00")
    assert views["gdpr.art33"]["status"] == "waiting"
    table = cli.ok("incidents", "clocks", case).stdout
    assert "internal target" in table and "qc-a21.cai" in table
    assessed = cli.json(
        "incidents", "assess", case, "risk_of_serious_injury", "--not-met",
        "--reasoning", "encrypted copy", "--factor", "sensitivity=low",
    )  # fmt: skip
    assert assessed["met"] is False and assessed["factors"] == {"sensitivity": "low"}
    refused = cli("incidents", "hold", case, "--obligation", "qc-a21.cai", "--reason", "police",
                  "--authority", "SQ", "--review-on", "2026-04-01")  # fmt: skip
    assert refused.exit_code != 0 and "cannot be held" in refused.output
    hold = cli.json("incidents", "hold", case, "--obligation", "qc-a21.persons", "--reason",
                    "police", "--authority", "SQ", "--review-on", "2026-04-01")  # fmt: skip
    lifted = cli.json("incidents", "hold-lift", case, str(hold["id"]))
    assert lifted["end"] is not None
    assert cli("incidents", "clocks").exit_code != 0
    assert isinstance(cli.json("incidents", "clocks", "--due"), list)
