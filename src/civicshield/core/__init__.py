"""The kernel: settings, errors, clock, enums, templating, logging, events and plugin hooks."""

from civicshield.core.actor import SYSTEM, Actor
from civicshield.core.clock import Clock, FrozenClock, SystemClock, utcnow
from civicshield.core.enums import LabelledEnum, Role, Sector, Severity, Tlp
from civicshield.core.errors import (
    AuthenticationError,
    CivicShieldError,
    ConfigError,
    Conflict,
    ExternalServiceError,
    FieldError,
    Invalid,
    NotFound,
    PermissionDenied,
    RateLimited,
    RuleError,
)
from civicshield.core.settings import Environment, Settings, SmtpSecurity, load_settings

__all__ = [
    "SYSTEM",
    "Actor",
    "AuthenticationError",
    "CivicShieldError",
    "Clock",
    "ConfigError",
    "Conflict",
    "Environment",
    "ExternalServiceError",
    "FieldError",
    "FrozenClock",
    "Invalid",
    "LabelledEnum",
    "NotFound",
    "PermissionDenied",
    "RateLimited",
    "Role",
    "RuleError",
    "Sector",
    "Settings",
    "Severity",
    "SmtpSecurity",
    "SystemClock",
    "Tlp",
    "load_settings",
    "utcnow",
]
