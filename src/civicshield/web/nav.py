"""The navigation registry: the platform's own pages, placeholders for the domains still to
come, and whatever plugins add through the `civicshield_navigation` hook.

A plugin entry whose key matches a placeholder replaces it, so a domain that lands later only
has to register its `NavItem` and the "coming soon" item disappears by itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from civicshield.accounts import Permission, Principal
from civicshield.core.i18n import N_
from civicshield.runtime import Runtime

__all__ = ["CORE_NAV", "UPCOMING", "NavItem", "collect_navigation", "visible_navigation"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NavItem:
    """One menu entry. `label` is an English msgid (marked with `N_`) translated at render
    time; `href=None` shows the entry disabled as "coming soon"."""

    key: str
    label: str
    href: str | None
    permission: Permission = Permission.DASHBOARD_VIEW
    section: str = "platform"  # "platform", "domains" or "admin"


CORE_NAV: tuple[NavItem, ...] = (
    NavItem("dashboard", N_("Dashboard"), "/", Permission.DASHBOARD_VIEW),
    NavItem("rules", N_("Detection rules"), "/rules", Permission.RULES_READ),
    NavItem("segmentation", N_("Segmentation"), "/segmentation", Permission.RULES_READ),
    NavItem("inventory", N_("Inventory"), "/assets", Permission.ASSETS_READ),
    NavItem("vulnerabilities", N_("Vulnerabilities"), "/vulns/findings", Permission.VULNS_READ),
    NavItem("risk", N_("Risk"), "/vulns/risk", Permission.VULNS_READ),
    NavItem("alerts", N_("Alerts"), "/alerts", Permission.ALERTS_READ),
    NavItem("incidents", N_("Incidents"), "/incidents", Permission.INCIDENTS_READ),
    NavItem("hunt", N_("Hunt"), "/hunt", Permission.EVENTS_READ),
    # With the built domains, not under the "Coming soon" heading of the placeholders.
    NavItem("intel", N_("Threat intel"), "/intel", Permission.INTEL_READ),
    NavItem("users", N_("Users"), "/admin/users", Permission.USERS_READ, "admin"),
    NavItem("roles", N_("Roles"), "/admin/roles", Permission.USERS_READ, "admin"),
    NavItem("tokens", N_("API tokens"), "/tokens", Permission.TOKENS_OWN, "admin"),
    NavItem("audit", N_("Audit log"), "/audit", Permission.AUDIT_READ, "admin"),
    NavItem("jobs", N_("Background jobs"), "/jobs", Permission.JOBS_READ, "admin"),
)

# Navigation only: no numbers or pages behind these until the domain exists.
UPCOMING: tuple[NavItem, ...] = tuple(
    NavItem(key, label, None, Permission.DASHBOARD_VIEW, "domains")
    for key, label in (
        ("privacy", N_("Privacy")),
        ("awareness", N_("Awareness")),
    )
)


def collect_navigation(runtime: Runtime) -> list[NavItem]:
    """Core entries, then placeholders, with plugin entries replacing or extending them."""
    items: dict[str, NavItem] = {item.key: item for item in (*CORE_NAV, *UPCOMING)}
    for contributed in runtime.plugins.hook.civicshield_navigation():
        for item in contributed or []:
            if not isinstance(item, NavItem):
                log.warning("ignoring navigation entry %r: not a civicshield.web.NavItem", item)
                continue
            items[item.key] = item
    return list(items.values())


def visible_navigation(items: list[NavItem], principal: Principal | None) -> list[NavItem]:
    """What this principal may see; anonymous visitors see no menu at all."""
    if principal is None:
        return []
    return [item for item in items if principal.can(item.permission)]
