"""Accounts policy derived from settings (password hashing cost, lockout, session lifetimes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher

from civicshield.core.settings import Settings

__all__ = ["AccountsConfig"]


@dataclass(frozen=True)
class AccountsConfig:
    hasher: PasswordHasher
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(hours=12)
    session_idle: timedelta = timedelta(minutes=60)
    require_admin_totp: bool = False
    issuer: str = "CivicShield"

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountsConfig:
        return cls(
            hasher=PasswordHasher(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_kib,
                parallelism=1,
            ),
            max_failures=settings.login_max_failures,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
            session_lifetime=timedelta(hours=settings.session_hours),
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            require_admin_totp=settings.require_admin_totp,
            issuer=f"CivicShield ({settings.city_name})",
        )
