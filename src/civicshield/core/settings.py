"""Typed settings read from the environment (prefix `CIVICSHIELD_`) and an optional `.env` file.

Every setting is documented in `docs/configuration.md` (a test fails when one is missing).
Secrets refuse placeholder values outside development.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from civicshield.core.errors import ConfigError

__all__ = ["Environment", "Settings", "SmtpSecurity", "load_settings"]

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "changethis", "secret", "password", "xxx"})
SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


def _default_feeds_path() -> Path | None:
    candidate = Path("../shared/data")
    return candidate.resolve() if candidate.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CIVICSHIELD_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = Environment.PRODUCTION
    data_dir: Path = Path("var")
    database_url: str | None = None
    feeds_path: Path | None = Field(default_factory=_default_feeds_path)
    secret_key: SecretStr | None = None
    city_name: str = "Ciudad Demo"

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str | None = None
    web_workers: int | None = Field(default=None, ge=1, le=64)
    web_threads: int = Field(default=4, ge=1, le=200)
    cookie_secure: bool | None = None
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    session_idle_minutes: int = Field(default=60, ge=5)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_ip_limit_per_minute: int = Field(default=30, ge=1)
    require_admin_totp: bool = False
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

    default_language: str = "en"
    default_timezone: str = "America/Tijuana"

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    mail_from: str = "civicshield@localhost"

    nvd_api_key: SecretStr | None = None
    nvd_api_url: str = "https://services.nvd.nist.gov/rest/json/cves/2.0"
    kev_url: str = (
        "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
    )
    epss_url: str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
    cve5_api_url: str = "https://cveawg.mitre.org/api/cve"
    feeds_cache_hours: float = Field(default=12.0, ge=0)

    events_retention_days: int | None = Field(default=90, ge=1)
    events_retention: dict[str, int] = Field(default_factory=dict)
    events_max_bytes: int | None = Field(default=None, ge=1)

    alert_window_seconds: int = Field(default=3600, ge=60)
    alert_sample_events: int = Field(default=10, ge=1, le=1000)
    ingest_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    ingest_idempotency_hours: float = Field(default=24.0, gt=0)
    ingest_spool_max_bytes: int = Field(default=512 * 1024 * 1024, ge=1024 * 1024)
    detect_batch_events: int = Field(default=50_000, ge=1)
    detect_batch_seconds: float = Field(default=5.0, gt=0)
    detect_min_level: str | None = None
    rule_pack_enabled: bool = True
    segmentation_enabled: bool = True
    demo_stream: bool = True
    syslog_udp_port: int | None = Field(default=None, ge=0, le=65535)
    syslog_tcp_port: int | None = Field(default=None, ge=0, le=65535)
    syslog_tls_port: int | None = Field(default=None, ge=0, le=65535)
    syslog_tls_cert: Path | None = None
    syslog_tls_key: Path | None = None
    syslog_host: str = "127.0.0.1"
    tail_paths: list[str] = Field(default_factory=list)
    source_silence_factor: float = Field(default=3.0, ge=1.0)

    evidence_key: SecretStr | None = None  # base64 of 32 bytes; else <data_dir>/evidence.key
    evidence_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    incident_profiles: list[str] = Field(default_factory=list)  # empty: every profile offered
    incident_targets: dict[str, float] = Field(default_factory=dict)  # obligation id -> hours
    incident_hold_policy: Literal["pause", "restart"] = "pause"
    incident_reminder_email: bool = True

    intel_decay_days: dict[str, int] = Field(default_factory=dict)  # kind -> days (ipv4, domain, …)
    intel_default_tlp: Literal["clear", "green", "amber", "amber+strict", "red"] = "amber"
    intel_sighting_version_minutes: int = Field(default=15, ge=0)  # one sighting version a slot
    intel_pull_minutes: int = Field(default=60, ge=1)  # how often subscriptions are pulled
    intel_pull_retries: int = Field(default=4, ge=0, le=10)
    intel_pull_timeout_seconds: float = Field(default=30.0, gt=0)
    taxii_max_content_length: int = Field(default=10 * 1024 * 1024, ge=1024)
    taxii_page_size: int = Field(default=100, ge=1, le=10_000)

    redis_url: str | None = None  # set: ingest goes to Redis Streams for `worker detect`
    stream_maxlen: int = Field(default=1_000_000, ge=1000)  # events per dataset stream, approx.
    stream_group: str = "civicshield-detect"
    stream_claim_idle_seconds: float = Field(default=60.0, gt=0)
    stream_max_deliveries: int = Field(default=5, ge=1)

    worker_in_process: bool = True
    worker_poll_seconds: float = Field(default=2.0, gt=0)
    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from civicshield.core.i18n import LANGUAGES

        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must start with sqlite:// or postgresql:// (e.g. postgresql+psycopg://)"
            )
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        if self.environment is Environment.DEVELOPMENT:
            return self
        for name in ("secret_key", "smtp_password", "nvd_api_key"):
            value: SecretStr | None = getattr(self, name)
            if (
                value is not None
                and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
            ):
                raise ValueError(
                    f"CIVICSHIELD_{name.upper()} is a placeholder; set a real secret "
                    "(placeholders are only allowed with CIVICSHIELD_ENVIRONMENT=development)"
                )
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'civicshield.db').resolve()}"

    @property
    def server_processes(self) -> int:
        """`web_workers`, or one server process per usable CPU core (at most 4)."""
        if self.web_workers is not None:
            return self.web_workers
        return max(1, min(4, len(os.sched_getaffinity(0))))

    def secret(self) -> str:
        """The signing secret: the setting, else `<data_dir>/secret.key` (`civicshield init`)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_KEY_FILE
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(
                "no secret key: set CIVICSHIELD_SECRET_KEY or run `civicshield init` "
                f"to create {path}"
            ) from None

    def ensure_secret_file(self) -> Path:
        """Create `<data_dir>/secret.key` (mode 0600) unless a secret is set; return its path."""
        path = self.data_dir / SECRET_KEY_FILE
        if self.secret_key is None and not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        return path


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation errors into one clear `ConfigError`."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"CIVICSHIELD_{name.upper()}" if err["loc"] else "settings"
            problems.append(f"{env}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
