"""Settings: environment prefix, validation messages, placeholder secrets, secret file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from civicshield.core import ConfigError, Environment, load_settings


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CIVICSHIELD_PORT", "9001")
    monkeypatch.setenv("CIVICSHIELD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORT", "1")  # unprefixed variables are ignored
    settings = load_settings()
    assert settings.port == 9001
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/civicshield.db"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CIVICSHIELD_PORT", "eighty", "CIVICSHIELD_PORT"),
        ("CIVICSHIELD_DEFAULT_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("CIVICSHIELD_DEFAULT_LANGUAGE", "de", "must be one of"),
        ("CIVICSHIELD_DATABASE_URL", "mysql://db/x", "sqlite:// or postgresql://"),
        ("CIVICSHIELD_SMTP_SECURITY", "ssl3", "CIVICSHIELD_SMTP_SECURITY"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings()
    assert name in str(info.value)


@pytest.mark.parametrize("secret", ["changeme", "changethis", "  Secret ", ""])
def test_placeholder_secret_refused_outside_development(secret: str) -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        load_settings(environment="production", secret_key=secret)
    dev = load_settings(environment="development", secret_key=secret)
    assert dev.environment is Environment.DEVELOPMENT


def test_secret_file_is_created_private_and_used(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "var")
    with pytest.raises(ConfigError, match="civicshield init"):
        settings.secret()
    path = settings.ensure_secret_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(settings.secret()) >= 40
    assert settings.ensure_secret_file() == path and settings.secret() == path.read_text()


def test_explicit_secret_wins(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, secret_key="a-real-secret-value-123456")
    assert settings.secret() == "a-real-secret-value-123456"
