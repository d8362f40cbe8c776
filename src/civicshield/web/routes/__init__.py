"""Web routes, one module per area; `ROUTERS` is what `civicshield.web.install` includes."""

from __future__ import annotations

from fastapi import APIRouter

from civicshield.web.routes import (
    alerts,
    alerts_detail,
    alerts_health,
    assets,
    assets_import,
    audit,
    auth,
    dashboard,
    hunt,
    incidents,
    incidents_clocks,
    incidents_detail,
    incidents_evidence,
    incidents_notices,
    incidents_timeline,
    intel,
    intel_peers,
    intel_publish,
    jobs,
    preferences,
    profile,
    rules,
    segmentation,
    tokens,
    users,
    users_edit,
    vulns,
    vulns_admin,
    vulns_detail,
    vulns_risk,
)

__all__ = ["ROUTERS"]

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    dashboard.router,
    users.router,
    users_edit.router,
    tokens.router,
    audit.router,
    jobs.router,
    rules.router,
    segmentation.router,
    hunt.router,
    assets_import.router,  # before assets: /assets/import is not an asset id
    assets.router,
    profile.router,
    preferences.router,
    vulns.router,  # before vulns_detail: /vulns/findings/bulk is not a finding id
    vulns_detail.router,
    vulns_risk.router,
    vulns_admin.router,
    alerts.router,  # then alerts_health: /alerts/health is not an alert id
    alerts_health.router,
    alerts_detail.router,
    incidents.router,
    incidents_timeline.router,  # /incidents/metrics and /incidents/register are not ids
    incidents_notices.router,
    incidents_detail.router,
    incidents_clocks.router,
    incidents_evidence.router,
    intel_peers.router,  # before intel: /intel/peers and /intel/publish are not ids
    intel_publish.router,
    intel.router,
)
