"""Vendored assets degrade gracefully; plugins extend the navigation."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from civicshield.accounts import Permission
from civicshield.core.hookspecs import hookimpl
from civicshield.runtime import build_runtime
from civicshield.web import NavItem, assets
from civicshield.web.nav import collect_navigation
from tests.conftest import make_settings


def test_missing_vendor_files_are_reported_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"htmx": {"file": "htmx-9.min.js", "integrity": "sha384-x"}}), encoding="utf-8"
    )
    monkeypatch.setattr(assets, "VENDOR_DIR", tmp_path)
    with caplog.at_level(logging.WARNING):
        loaded = assets.Assets.load()
    assert loaded.missing == ["htmx"]
    assert str(loaded.script("htmx")) == ""
    assert "make assets" in caplog.text


def test_present_vendor_file_gets_integrity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "htmx.js").write_text("/* */", encoding="utf-8")
    (tmp_path / "manifest.json").write_text(
        json.dumps({"htmx": {"file": "htmx.js", "integrity": "sha384-abc"}}), encoding="utf-8"
    )
    monkeypatch.setattr(assets, "VENDOR_DIR", tmp_path)
    tag = str(assets.Assets.load().script("htmx"))
    assert tag == (
        '<script src="/static/vendor/htmx.js" integrity="sha384-abc" '
        'crossorigin="anonymous" defer></script>'
    )


def test_own_assets_are_cache_busted() -> None:
    loaded = assets.Assets.load(wanted=())
    assert loaded.own["app.css"].startswith("/static/app.css?v=")


class InventoryPlugin:
    @hookimpl
    def civicshield_navigation(self) -> list[object]:
        return [
            NavItem("inventory", "Inventory", "/inventory", Permission.DASHBOARD_VIEW, "domains"),
            "not a nav item",
        ]


def test_plugins_replace_placeholders(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    runtime = build_runtime(make_settings(tmp_path), plugins=[InventoryPlugin()])
    try:
        with caplog.at_level(logging.WARNING):
            items = {item.key: item for item in collect_navigation(runtime)}
    finally:
        runtime.close()
    assert items["inventory"].href == "/inventory"
    assert items["privacy"].href is None  # still a placeholder
    assert "ignoring navigation entry" in caplog.text
