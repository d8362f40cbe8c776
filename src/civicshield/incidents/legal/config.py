"""What the city configured for its legal clocks, read once from the settings: the profiles it
offers (with its internal targets), the hold policy, its time zone and whether reminders e-mail."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from civicshield.core.errors import FieldError, Invalid
from civicshield.core.settings import Settings
from civicshield.incidents.clocks import (
    HoldPolicy,
    Obligation,
    Profile,
    load_profiles,
    with_targets,
)

__all__ = ["LegalConfig", "config_of"]


@dataclass(frozen=True)
class LegalConfig:
    profiles: dict[str, Profile]
    hold_policy: HoldPolicy = "pause"
    zone: str = "UTC"
    reminder_email: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> LegalConfig:
        return cls(
            profiles=_profiles(
                tuple(settings.incident_profiles), tuple(sorted(settings.incident_targets.items()))
            ),
            hold_policy=settings.incident_hold_policy,
            zone=settings.default_timezone,
            reminder_email=settings.incident_reminder_email,
        )

    def obligation(self, obligation_id: str, loc: str = "obligation_id") -> Obligation:
        """An obligation of an offered profile, or `Invalid` naming the field."""
        profile = self.profiles.get(obligation_id.split(".", 1)[0])
        for ob in profile.obligations if profile else ():
            if ob.id == obligation_id:
                return ob
        raise Invalid(
            f"unknown obligation {obligation_id!r}: use one of {', '.join(self.obligation_ids())}",
            [FieldError(("body", loc), "unknown obligation")],
        )

    def obligation_ids(self) -> list[str]:
        return [ob.id for p in self.profiles.values() for ob in p.obligations]


@lru_cache(maxsize=8)
def _profiles(
    offered: tuple[str, ...], targets: tuple[tuple[str, float], ...]
) -> dict[str, Profile]:
    # Targets are applied on every profile first: a target for a profile the city does not
    # offer is still checked (a typo should not pass silently).
    every = with_targets(dict(targets), load_profiles())
    return {k: v for k, v in every.items() if not offered or k in offered}


def config_of(value: LegalConfig | Settings) -> LegalConfig:
    return value if isinstance(value, LegalConfig) else LegalConfig.from_settings(value)
