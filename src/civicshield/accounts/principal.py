"""The authenticated identity behind a request or command."""

from __future__ import annotations

from dataclasses import dataclass, field

from civicshield.accounts.permissions import Permission
from civicshield.core.actor import Actor
from civicshield.core.enums import Role, Sector
from civicshield.core.errors import PermissionDenied

__all__ = ["Principal"]


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: Role
    sectors: frozenset[Sector]
    permissions: frozenset[Permission]
    via: str = "session"  # "session" or "token"
    token_id: int | None = None
    language: str = "en"
    timezone: str = "UTC"
    theme: str = "system"
    totp_enabled: bool = False
    must_change_password: bool = False
    ip: str | None = field(default=None, compare=False)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(f"your role may not do this (needs {permission.value})")

    def sees_sector(self, sector: Sector) -> bool:
        """Sector operators see only their sectors; other roles see every sector."""
        return self.role is not Role.SECTOR_OPERATOR or sector in self.sectors

    @property
    def actor(self) -> Actor:
        if self.via == "token":
            return Actor(
                kind="token",
                name=f"{self.username}#{self.token_id}",
                user_id=self.user_id,
                ip=self.ip,
            )
        return Actor(kind="user", name=self.username, user_id=self.user_id, ip=self.ip)
