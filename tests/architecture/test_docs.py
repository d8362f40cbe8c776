"""Docs cover every setting, plugin hook, permission and CLI command (tests fail otherwise)."""

from __future__ import annotations

from pathlib import Path

from civicshield.accounts import Permission
from civicshield.core import hookspecs
from civicshield.core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [
        f"CIVICSHIELD_{n.upper()}"
        for n in Settings.model_fields
        if f"`CIVICSHIELD_{n.upper()}`" not in text
    ]
    assert not missing, f"undocumented settings in docs/configuration.md: {missing}"


def test_every_hook_is_documented() -> None:
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    hooks = [n for n in dir(hookspecs) if n.startswith("civicshield_")]
    assert hooks
    missing = [h for h in hooks if f"`{h}" not in text]
    assert not missing, f"undocumented hooks in docs/plugins.md: {missing}"


def test_every_permission_is_documented() -> None:
    text = (DOCS / "permissions.md").read_text(encoding="utf-8")
    missing = [p.value for p in Permission if f"`{p.value}`" not in text]
    assert not missing, f"undocumented permissions in docs/permissions.md: {missing}"


def test_every_cli_command_is_documented() -> None:
    import typer.main

    from civicshield.cli import app

    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    group = typer.main.get_command(app)
    commands: list[str] = []

    def walk(cmd: object, prefix: str) -> None:
        subcommands = getattr(cmd, "commands", None)
        if not subcommands:
            commands.append(prefix.strip())
            return
        for name, sub in subcommands.items():
            walk(sub, f"{prefix} {name}")

    walk(group, "civicshield")
    missing = [c for c in commands if f"`{c}" not in text]
    assert not missing, f"undocumented commands in docs/cli.md: {missing}"


def test_permission_table_matches_the_roles() -> None:
    from civicshield.accounts import ROLE_PERMISSIONS
    from civicshield.core import Role

    order = [
        Role.ADMIN,
        Role.ANALYST,
        Role.RESPONDER,
        Role.PRIVACY_OFFICER,
        Role.SECTOR_OPERATOR,
        Role.VIEWER,
    ]
    text = (DOCS / "permissions.md").read_text(encoding="utf-8")
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or not cells[0].startswith("`"):
            continue
        permission = Permission(cells[0].strip("`"))
        documented = {role for role, cell in zip(order, cells[2:], strict=True) if cell == "✓"}
        actual = {role for role in order if permission in ROLE_PERMISSIONS[role]}
        assert documented == actual, f"docs/permissions.md row {permission.value} is out of date"
