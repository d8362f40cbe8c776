"""Log-source routing for flattened Windows JSON with native field names (the data table).

A Sigma rule's `logsource` becomes an event predicate the way pySigma's `sysmon` and
`windows-logsources` pipelines resolve it (the pipelines Zircolite uses):

* `product: windows` + a Sysmon category (`process_creation`, `network_connection`, …) →
  `Channel` = `Microsoft-Windows-Sysmon/Operational` and `EventID` in the category's Sysmon ids;
* `product: windows` + a PowerShell category (`ps_script`, `ps_module`, `ps_classic_*`) → the
  PowerShell channel(s) and the category's EventID;
* `product: windows` + `service: X` → `Channel` in pySigma's `windows_logsource_mapping[X]`;
* `product: windows` alone → every event.

Anything else (another product, an unknown category or service) has no route: the rule is
reported Unsupported with the reason, never run against the wrong events.
"""

from __future__ import annotations

from collections.abc import Sequence

from sigma.pipelines.common import windows_logsource_mapping

from civicshield.detect.engine.model import (
    CHANNEL_FIELD,
    EVENT_ID_FIELD,
    MAPPING_VERSION,
    NoRoute,
    Route,
)

__all__ = [
    "CHANNEL_FIELD",
    "EVENT_ID_FIELD",
    "MAPPING_VERSION",
    "POWERSHELL_CATEGORIES",
    "SYSMON_CATEGORIES",
    "WINDOWS_SERVICE_CHANNELS",
    "NoRoute",
    "Route",
    "route_windows",
]


# pySigma-pipeline-sysmon `sysmon_generic_logsource_eventid_mapping`.
SYSMON_CATEGORIES: dict[str, tuple[int, ...]] = {
    "process_creation": (1,),
    "file_change": (2,),
    "network_connection": (3,),
    "process_termination": (5,),
    "sysmon_status": (4, 16),
    "driver_load": (6,),
    "image_load": (7,),
    "create_remote_thread": (8,),
    "raw_access_thread": (9,),
    "process_access": (10,),
    "file_event": (11,),
    "registry_add": (12,),
    "registry_delete": (12,),
    "registry_set": (13,),
    "registry_rename": (14,),
    "registry_event": (12, 13, 14),
    "create_stream_hash": (15,),
    "pipe_created": (17, 18),
    "wmi_event": (19, 20, 21),
    "dns_query": (22,),
    "file_delete": (23, 26),
    "clipboard_capture": (24,),
    "process_tampering": (25,),
    "sysmon_error": (255,),
}

# Sysmon event ids pySigma's own log-source validator knows (`sigma.validators.core.logsources`)
# but pySigma-pipeline-sysmon does not map (Sysmon 15+): routed the same way.
SYSMON_CATEGORIES.update(
    {
        "clipboard_change": (24,),
        "file_delete_detected": (26,),
        "file_block_executable": (27,),
        "file_block_shredding": (28,),
        "file_executable_detected": (29,),
    }
)

# Categories whose rules name the Microsoft-Windows-Kernel-File ETW provider as their
# requirement (`definition:`): events from that provider, whatever channel collected them.
KERNEL_FILE_PROVIDER = "Microsoft-Windows-Kernel-File"
KERNEL_FILE_CATEGORIES = frozenset({"file_access", "file_rename"})
PROVIDER_FIELD = "Provider_Name"

# Windows services with an event log channel that pySigma's table lacks.
EXTRA_SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    "smbserver-connectivity": ("Microsoft-Windows-SMBServer/Connectivity",),
}

# pySigma-pipeline-windows `windows_generic_category_channel_mapping`: category → (service, id).
POWERSHELL_CATEGORIES: dict[str, tuple[str, int]] = {
    "ps_module": ("powershell", 4103),
    "ps_script": ("powershell", 4104),
    "ps_classic_start": ("powershell-classic", 400),
    "ps_classic_provider_start": ("powershell-classic", 600),
    "ps_classic_script": ("powershell-classic", 800),
}


def _channels(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# pySigma's `sigma.pipelines.common.windows_logsource_mapping`: service → channel(s).
WINDOWS_SERVICE_CHANNELS: dict[str, tuple[str, ...]] = {
    service: _channels(channels) for service, channels in windows_logsource_mapping.items()
}


def route_windows(
    product: str | None, category: str | None, service: str | None
) -> Route | NoRoute:
    """Resolve a logsource for flattened Windows JSON (see the module docstring)."""
    if product is None:
        what = ", ".join(
            f"{k} {v!r}" for k, v in (("category", category), ("service", service)) if v
        )
        return NoRoute(f"logsource has no product ({what or 'nothing else either'}): not mapped")
    if product != "windows":
        return NoRoute(f"logsource product {product!r} is not mapped (only 'windows')")
    channels: tuple[str, ...] = ()
    event_ids: tuple[int, ...] = ()
    if category is not None:
        if category in SYSMON_CATEGORIES:
            event_ids = SYSMON_CATEGORIES[category]
            service_for_category = "sysmon"
        elif category in POWERSHELL_CATEGORIES:
            service_for_category, event_id = POWERSHELL_CATEGORIES[category]
            event_ids = (event_id,)
        elif category in KERNEL_FILE_CATEGORIES:
            return Route(extra=((PROVIDER_FIELD, (KERNEL_FILE_PROVIDER,)),))
        else:
            return NoRoute(f"logsource category {category!r} is not mapped")
        # the pipelines change the logsource's service to the category's own
        channels = WINDOWS_SERVICE_CHANNELS[service_for_category]
    elif service is not None:
        if service in EXTRA_SERVICE_CHANNELS:
            channels = EXTRA_SERVICE_CHANNELS[service]
        elif service not in WINDOWS_SERVICE_CHANNELS:
            return NoRoute(f"logsource service {service!r} is not mapped")
        else:
            channels = WINDOWS_SERVICE_CHANNELS[service]
    return Route(channels=channels, event_ids=tuple(str(i) for i in event_ids))
