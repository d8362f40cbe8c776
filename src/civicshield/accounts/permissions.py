"""Permissions and what each role is granted. Deny by default: a permission not listed for a
role is refused. Every web and API route declares the permission it needs."""

from __future__ import annotations

from civicshield.core.enums import Role
from civicshield.core.i18n import N_

__all__ = ["ROLE_PERMISSIONS", "Permission", "permissions_for"]

from enum import StrEnum


class Permission(StrEnum):
    DASHBOARD_VIEW = "dashboard:view"
    PROFILE_SELF = "profile:self"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    TOKENS_OWN = "tokens:own"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    JOBS_READ = "jobs:read"
    JOBS_MANAGE = "jobs:manage"
    RULES_READ = "rules:read"
    RULES_MANAGE = "rules:manage"
    ASSETS_READ = "assets:read"
    ASSETS_MANAGE = "assets:manage"
    VULNS_READ = "vulns:read"
    VULNS_MANAGE = "vulns:manage"
    VULNS_POLICY = "vulns:policy"
    EVENTS_READ = "events:read"
    EVENTS_MANAGE = "events:manage"
    EVENTS_INGEST = "events:ingest"
    ALERTS_READ = "alerts:read"
    ALERTS_TRIAGE = "alerts:triage"
    ALERTS_SUPPRESS = "alerts:suppress"
    INCIDENTS_READ = "incidents:read"
    INCIDENTS_MANAGE = "incidents:manage"
    INCIDENTS_NOTIFY = "incidents:notify"
    INTEL_READ = "intel:read"
    INTEL_MANAGE = "intel:manage"
    INTEL_APPROVE = "intel:approve"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Permission.DASHBOARD_VIEW: N_("View the dashboard"),
    Permission.PROFILE_SELF: N_("Edit own profile"),
    Permission.USERS_READ: N_("See users"),
    Permission.USERS_MANAGE: N_("Create, change and disable users"),
    Permission.TOKENS_OWN: N_("Create and revoke own API tokens"),
    Permission.TOKENS_MANAGE: N_("Manage everyone's API tokens"),
    Permission.AUDIT_READ: N_("Read the audit log"),
    Permission.AUDIT_VERIFY: N_("Verify the audit chain"),
    Permission.JOBS_READ: N_("See background jobs"),
    Permission.JOBS_MANAGE: N_("Run and retry background jobs"),
    Permission.RULES_READ: N_("See the detection rule catalogue"),
    Permission.RULES_MANAGE: N_("Rebuild the detection rule catalogue"),
    Permission.ASSETS_READ: N_("See the asset inventory"),
    Permission.ASSETS_MANAGE: N_("Add, change, retire and import assets"),
    Permission.VULNS_READ: N_("See vulnerability findings, sector risk and the risk report"),
    Permission.VULNS_MANAGE: N_("Triage findings, import scans, run matching and feed syncs"),
    Permission.VULNS_POLICY: N_("Change the vulnerability prioritisation policy"),
    Permission.EVENTS_READ: N_("Hunt over stored events and see quarantined records"),
    Permission.EVENTS_MANAGE: N_("Ingest event files and replay quarantined records"),
    Permission.EVENTS_INGEST: N_("Send telemetry to the ingest endpoint"),
    Permission.ALERTS_READ: N_("See the alert queue and ingest health"),
    Permission.ALERTS_TRIAGE: N_("Acknowledge, escalate, close and reopen alerts"),
    Permission.ALERTS_SUPPRESS: N_("Suppress alerts and set how often sources must report"),
    Permission.INCIDENTS_READ: N_("See incident cases"),
    Permission.INCIDENTS_MANAGE: N_("Open incident cases from alerts and change them"),
    Permission.INCIDENTS_NOTIFY: N_(
        "Record risk assessments, send legal notices and keep the confidentiality-incident register"
    ),
    Permission.INTEL_READ: N_("See threat-intelligence indicators, sources and exports"),
    Permission.INTEL_MANAGE: N_(
        "Import threat intelligence, manage peers and TAXII collections, prepare publications"
    ),
    Permission.INTEL_APPROVE: N_(
        "Approve the first publication of threat intelligence to a new peer city"
    ),
}

_EVERYONE = {Permission.DASHBOARD_VIEW, Permission.PROFILE_SELF}
_STAFF = _EVERYONE | {Permission.TOKENS_OWN, Permission.JOBS_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.ANALYST: frozenset(
        _STAFF
        | {
            Permission.AUDIT_READ,
            Permission.RULES_READ,
            Permission.ASSETS_READ,
            Permission.ASSETS_MANAGE,
            Permission.VULNS_READ,
            Permission.VULNS_MANAGE,
            Permission.EVENTS_READ,
            Permission.EVENTS_MANAGE,
            Permission.EVENTS_INGEST,
            Permission.ALERTS_READ,
            Permission.ALERTS_TRIAGE,
            Permission.ALERTS_SUPPRESS,
            Permission.INCIDENTS_READ,
            Permission.INCIDENTS_MANAGE,
            Permission.INCIDENTS_NOTIFY,
            Permission.INTEL_READ,
            Permission.INTEL_MANAGE,
        }
    ),
    Role.RESPONDER: frozenset(
        _STAFF
        | {
            Permission.RULES_READ,
            Permission.ASSETS_READ,
            Permission.VULNS_READ,
            Permission.EVENTS_READ,
            Permission.ALERTS_READ,
            Permission.ALERTS_TRIAGE,
            Permission.INCIDENTS_READ,
            Permission.INCIDENTS_MANAGE,
            Permission.INTEL_READ,
        }
    ),
    # The privacy officer decides on notification and keeps the register (A-2.1 s. 63.9).
    Role.PRIVACY_OFFICER: frozenset(
        _STAFF
        | {
            Permission.AUDIT_READ,
            Permission.INCIDENTS_READ,
            Permission.INCIDENTS_NOTIFY,
            # Personal data must not leave the city: the first publication to a peer is theirs.
            Permission.INTEL_READ,
            Permission.INTEL_APPROVE,
        }
    ),
    # Sector operators keep their own sectors' inventory (the service scopes them).
    Role.SECTOR_OPERATOR: frozenset(
        _EVERYONE
        | {
            Permission.TOKENS_OWN,
            Permission.ASSETS_READ,
            Permission.ASSETS_MANAGE,
            Permission.VULNS_READ,
            Permission.VULNS_MANAGE,
            Permission.ALERTS_READ,
            Permission.ALERTS_TRIAGE,
            Permission.INCIDENTS_READ,
            Permission.INCIDENTS_MANAGE,
        }
    ),
    Role.VIEWER: frozenset(
        _EVERYONE
        | {
            Permission.ASSETS_READ,
            Permission.VULNS_READ,
            Permission.ALERTS_READ,
            Permission.INCIDENTS_READ,
            Permission.INTEL_READ,
        }
    ),
}


def permissions_for(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
