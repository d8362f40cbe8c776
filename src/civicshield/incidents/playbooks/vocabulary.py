"""The closed vocabularies a playbook template is checked against.

`OBLIGATION_IDS` mirrors the shared id list of issue 9. The clock profiles
(`civicshield.incidents.clocks`) are the source of truth for what each obligation means; this
package does not import them (both were written side by side), so a test or a later change
should keep the two lists equal.
"""

from __future__ import annotations

__all__ = [
    "ACTION_KINDS",
    "ACTION_TARGETS",
    "APPROVAL_TARGETS",
    "CONDITIONS",
    "LANGUAGE_KEYS",
    "OBLIGATION_IDS",
    "PHASES",
    "PLATFORM_ROLES",
]

# `<profile>.<obligation>`; see the clock profiles (source of truth).
OBLIGATION_IDS: frozenset[str] = frozenset(
    {
        "qc-a21.cai",
        "qc-a21.persons",
        "qc-a21.register",
        "mx-lgpdppso.titular",
        "mx-lgpdppso.authority",
        "mx-lgpdppso.log",
        "gdpr.art33",
        "gdpr.art34",
        "gdpr.art33-5",
        "nis2.early-warning",
        "nis2.notification",
        "nis2.final-report",
        "pipeda.opc",
        "pipeda.individuals",
        "pipeda.record",
        "fl-282.ransomware",
        "fl-282.incident",
    }
)

# When a playbook's clock applies; the case records the facts (and the risk assessment) that
# decide it, the playbook only says which fact matters.
CONDITIONS: frozenset[str] = frozenset(
    {
        "always",
        "personal_data",  # personal information involved (register entries, GDPR 72 h)
        "serious_risk",  # the recorded assessment concluded notification is due
        "nis2_significant",  # the entity is in NIS2 scope and the incident is significant
        "ransomware",  # a ransomware incident at a Florida local government
        "severity_level_3",  # Florida severity level 3, 4 or 5
    }
)

# NIST SP 800-61 r2 life-cycle phases, in order.
PHASES: tuple[str, ...] = (
    "preparation",
    "detection_analysis",
    "containment",
    "eradication",
    "recovery",
    "post_incident",
)

# Account roles that can own a task (viewers cannot); other owners are named functions that a
# playbook declares under `functions:` (e.g. "water_operations").
PLATFORM_ROLES: frozenset[str] = frozenset(
    {"admin", "analyst", "privacy_officer", "responder", "sector_operator"}
)

ACTION_KINDS: frozenset[str] = frozenset(
    {
        "isolate_host",
        "block_ip",
        "block_domain",
        "block_sender",
        "disable_account",
        "revoke_sessions",
        "remove_mail_rules",
        "purge_message",
        "snapshot_backups",
        "isolate_vlan_egress",
        "reset_camera_credentials",
        "cut_remote_access",
        "enable_waf_protection",
        "rate_limit",
        "serve_status_page",
    }
)

ACTION_TARGETS: frozenset[str] = frozenset(
    {"host", "network_edge", "account", "mailbox", "backup", "camera", "ot", "citizen_portal"}
)

# A person approves every automated action on these (issue 9; research note §4).
APPROVAL_TARGETS: frozenset[str] = frozenset({"camera", "ot", "citizen_portal"})

# Text keys in templates; UI language tags map onto them ("es-MX" -> "es").
LANGUAGE_KEYS: tuple[str, ...] = ("en", "es", "fr")
