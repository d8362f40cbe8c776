"""The demo credentials file, `<data_dir>/demo-credentials.txt` (mode 0600).

It holds the password every demo account shares and the raw demo API token, the only copies
of both (the database keeps hashes). Lines are `key = value`; `#` starts a comment.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from civicshield.demo.people import DEMO_PEOPLE, SIEM_TOKEN_NAME, SIEM_TOKEN_OWNER

__all__ = ["CREDENTIALS_FILE", "read_credentials", "write_credentials"]

CREDENTIALS_FILE = "demo-credentials.txt"


def read_credentials(path: Path) -> dict[str, str] | None:
    """The stored values, or None when there is no usable file (no password in it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.lstrip().startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values if values.get("password") else None


def _render(city: str, password: str, token: str | None) -> str:
    lines = [
        f"# CivicShield demo city {city!r}: demo credentials. Keep this file private.",
        "# Every demo account below shares this password. Running `civicshield demo` again",
        "# keeps it; delete this file and run it again to choose a new one (resets them all).",
        "",
        f"password = {password}",
        f"siem_token = {token or ''}",
        "",
        "# Accounts: username, role, sectors, language, time zone, name",
    ]
    for p in DEMO_PEOPLE:
        sectors = ",".join(s.value for s in p.sectors) or "-"
        lines.append(
            f"#   {p.username:<20} {p.role.value:<16} {sectors:<17} {p.language:<6} "
            f"{p.timezone:<17} {p.display_name}"
        )
    lines += [
        "",
        f"# siem_token: API token {SIEM_TOKEN_NAME!r} of {SIEM_TOKEN_OWNER}, scope dashboard:view;",
        "# send it as `Authorization: Bearer <siem_token>`.",
        "",
    ]
    return "\n".join(lines)


def write_credentials(path: Path, *, city: str, password: str, token: str | None) -> None:
    """Write the file atomically, readable only by its owner."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_render(city, password, token))
        os.chmod(scratch, 0o600)
        os.replace(scratch, path)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
