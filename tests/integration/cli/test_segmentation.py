"""`civicshield segmentation show|check|apply|preview|reset`."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_segmentation import POLICY
from tests.integration.cli.conftest import Cli


def test_check_apply_preview_reset(initialised: Cli, tmp_path: Path) -> None:
    cli = initialised
    assert "ot-from-elsewhere" in cli.ok("segmentation", "show").stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(POLICY.replace("10.20.0.0/16", "10.20.0.1/16"), encoding="utf-8")
    checked = cli("segmentation", "check", str(bad))
    assert checked.exit_code == 1 and "zones.1.cidrs.0" in checked.stderr
    refused = cli("segmentation", "apply", str(bad))
    assert refused.exit_code == 1 and "nothing was saved" in refused.stderr
    good = tmp_path / "good.yaml"
    good.write_text(POLICY, encoding="utf-8")
    assert cli.json("segmentation", "check", str(good), "--json")["valid"] is True
    applied = cli.json("segmentation", "apply", str(good), "--json")
    assert applied["source"] == "city" and applied["issues"][0]["where"] == "rules.1"
    assert cli.json("segmentation", "show", "--json")["source"] == "city"
    preview = cli.json("segmentation", "preview", "--days", "1", "--json")
    assert preview["flows"] == 0 and preview["denied"] == 0
    cli.ok("segmentation", "reset")
    assert cli.json("segmentation", "show", "--json")["source"] == "default"
