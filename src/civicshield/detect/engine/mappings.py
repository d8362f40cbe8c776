"""Log-source mappings beyond native Windows JSON: Winlogbeat/ECS JSON, Linux JSON, tagged.

A mapping tells the compiler which events a rule sees (`route`) and which column each Sigma
field name reads (`field`). Tables, routing and sources: `docs/detect-mappings.md`.

* `WinlogbeatMapping`: Elastic Winlogbeat documents (`winlog.channel`, `winlog.event_id`,
  `winlog.event_data.*`); routing as native Windows (`route_windows`). Its field table is also
  a pySigma `ProcessingPipeline` (`winlogbeat_pipeline()`), so other pySigma backends get the
  same translation; `WinlogbeatMapping.field` calls the pipeline's own transformation.
* `LinuxMapping`: `product: linux` rules over auditd records, Sysmon for Linux events and
  syslog messages as JSON; native field names.
* `TaggedMapping`: any product's own logs (CloudTrail, Okta, proxy, …) whose events declare
  their log source in `logsource.product` / `logsource.service` / `logsource.category`
  (`civicshield detect --logsource` stamps them); native field names.
* `CombinedMapping`: Windows and Linux by product, every other log source tagged.
* `MAPPINGS` / `mapping_named`: the registry the CLI chooses from (`windows`, `winlogbeat`,
  `linux`, `combined`, `tagged`).
"""

from __future__ import annotations

from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    AddConditionTransformation,
    FieldFunctionTransformation,
)

from civicshield.detect.engine.compiler import LogsourceMapping, WindowsNativeMapping
from civicshield.detect.engine.logsources import (
    POWERSHELL_CATEGORIES,
    SYSMON_CATEGORIES,
    WINDOWS_SERVICE_CHANNELS,
    route_windows,
)
from civicshield.detect.engine.model import CHANNEL_FIELD, EVENT_ID_FIELD, NoRoute, Route
from civicshield.detect.sigma.model import RuleInfo

__all__ = [
    "AUDIT_RECORD_TYPES",
    "LINUX_SYSMON_CATEGORIES",
    "LINUX_SYSMON_CHANNEL",
    "LOGSOURCE_CATEGORY_FIELD",
    "LOGSOURCE_FIELDS",
    "LOGSOURCE_PRODUCT_FIELD",
    "LOGSOURCE_SERVICE_FIELD",
    "MAPPINGS",
    "SYSLOG_FACILITIES",
    "SYSLOG_SERVICES",
    "WINLOGBEAT_CHANNEL_FIELD",
    "WINLOGBEAT_EVENT_DATA",
    "WINLOGBEAT_EVENT_ID_FIELD",
    "WINLOGBEAT_SYSTEM_FIELDS",
    "CombinedMapping",
    "LinuxMapping",
    "TaggedMapping",
    "UnknownMappingError",
    "WinlogbeatMapping",
    "mapping_named",
    "route_tagged",
    "winlogbeat_field",
    "winlogbeat_pipeline",
]

# -- Winlogbeat / ECS ---------------------------------------------------------------------------
WINLOGBEAT_EVENT_DATA = "winlog.event_data."
WINLOGBEAT_CHANNEL_FIELD = "winlog.channel"
WINLOGBEAT_EVENT_ID_FIELD = "winlog.event_id"

# Native (System section, as flattened in `events.jsonl`) -> Winlogbeat field. Winlogbeat's
# exported fields (`winlog.*`, 7.x/8.x "Winlogbeat fields") and ECS (`log.level`,
# `@timestamp`). Every other native name is event data: `winlog.event_data.<name>`.
WINLOGBEAT_SYSTEM_FIELDS: dict[str, str] = {
    "Channel": WINLOGBEAT_CHANNEL_FIELD,
    "EventID": WINLOGBEAT_EVENT_ID_FIELD,
    "Provider_Name": "winlog.provider_name",
    "Guid": "winlog.provider_guid",  # Provider/@Guid
    "Computer": "winlog.computer_name",
    "EventRecordID": "winlog.record_id",
    "ProcessID": "winlog.process.pid",  # Execution/@ProcessID
    "ThreadID": "winlog.process.thread.id",  # Execution/@ThreadID
    "ActivityID": "winlog.activity_id",  # Correlation/@ActivityID
    "RelatedActivityID": "winlog.related_activity_id",
    "UserID": "winlog.user.identifier",  # Security/@UserID
    "Version": "winlog.version",
    "Task": "winlog.task",
    "Opcode": "winlog.opcode",
    "Keywords": "winlog.keywords",
    "Level": "log.level",
    "SystemTime": "@timestamp",  # TimeCreated/@SystemTime
}


def winlogbeat_field(name: str | None) -> str:
    """Native field name -> Winlogbeat field name (the pipeline's function for names that are
    not System fields)."""
    return WINLOGBEAT_EVENT_DATA + (name or "")


def _winlogbeat_fields() -> FieldFunctionTransformation:
    table: dict[str | None, str | list[str]] = dict(WINLOGBEAT_SYSTEM_FIELDS.items())
    return FieldFunctionTransformation(mapping=table, transform_func=winlogbeat_field)


_WINLOGBEAT_FIELDS = _winlogbeat_fields()


def _routing_items() -> list[ProcessingItem]:
    """Native `EventID`/`Channel` conditions per Windows log source, as pySigma's `sysmon` and
    `windows-logsources` pipelines add them (same tables as `route_windows`)."""
    items: list[ProcessingItem] = []
    for category, ids in SYSMON_CATEGORIES.items():
        conditions: dict[str, int | str | list[str]] = {
            CHANNEL_FIELD: list(WINDOWS_SERVICE_CHANNELS["sysmon"]),
            EVENT_ID_FIELD: [str(i) for i in ids],
        }
        items.append(_route_item(f"sysmon_{category}", conditions, category=category))
    for category, (service, event_id) in POWERSHELL_CATEGORIES.items():
        conditions = {
            CHANNEL_FIELD: list(WINDOWS_SERVICE_CHANNELS[service]),
            EVENT_ID_FIELD: str(event_id),
        }
        items.append(_route_item(f"powershell_{category}", conditions, category=category))
    for service, channels in WINDOWS_SERVICE_CHANNELS.items():
        items.append(
            _route_item(f"service_{service}", {CHANNEL_FIELD: list(channels)}, service=service)
        )
    return items


def _route_item(
    name: str,
    conditions: dict[str, int | str | list[str]],
    *,
    category: str | None = None,
    service: str | None = None,
) -> ProcessingItem:
    return ProcessingItem(
        identifier=f"civicshield_winlogbeat_{name}",
        transformation=AddConditionTransformation(conditions),
        rule_conditions=[LogsourceCondition(product="windows", category=category, service=service)],
    )


def winlogbeat_pipeline() -> ProcessingPipeline:
    """pySigma pipeline: Windows log-source conditions, then native -> Winlogbeat field names.
    The field item is the very transformation `WinlogbeatMapping.field` applies."""
    fields = ProcessingItem(
        identifier="civicshield_winlogbeat_fields", transformation=_winlogbeat_fields()
    )
    return ProcessingPipeline(
        name="CivicShield Winlogbeat (ECS) mapping",
        priority=20,
        items=[*_routing_items(), fields],
    )


class WinlogbeatMapping:
    """Winlogbeat JSON (nested or dotted keys): Windows routing, Winlogbeat field names."""

    def route(self, rule: RuleInfo) -> Route | NoRoute:
        route = route_windows(rule.product, rule.category, rule.service)
        if isinstance(route, NoRoute):
            return route
        return Route(
            channels=route.channels,
            event_ids=route.event_ids,
            channel_field=WINLOGBEAT_CHANNEL_FIELD,
            event_id_field=WINLOGBEAT_EVENT_ID_FIELD,
            extra=tuple((self.field(name), values) for name, values in route.extra),
        )

    def field(self, name: str) -> str:
        mapped = _WINLOGBEAT_FIELDS.apply_field_name(name)
        assert isinstance(mapped, str)  # the table maps each name to one field
        return mapped


# -- Linux --------------------------------------------------------------------------------------
LINUX_SYSMON_CHANNEL = "Linux-Sysmon/Operational"
# Categories Sysmon for Linux produces, with the Windows Sysmon event ids it reuses.
LINUX_SYSMON_CATEGORIES: dict[str, tuple[int, ...]] = {
    name: SYSMON_CATEGORIES[name]
    for name in (
        "process_creation",
        "network_connection",
        "sysmon_status",
        "process_termination",
        "raw_access_thread",
        "file_event",
        "file_delete",
    )
}

# Linux audit record types (kernel `include/uapi/linux/audit.h`, audit-userspace
# `lib/msg_typetab.h`): an event is an auditd record when its `type` is one of them.
_AUDIT_TYPES_TEXT = """
    ADD_GROUP ADD_USER ANOM_ABEND ANOM_ACCESS_FS ANOM_ADD_ACCT ANOM_AMTU_FAIL ANOM_CRYPTO_FAIL
    ANOM_DEL_ACCT ANOM_EXEC ANOM_LINK ANOM_LOGIN_ACCT ANOM_LOGIN_FAILURES ANOM_LOGIN_LOCATION
    ANOM_LOGIN_SERVICE ANOM_LOGIN_SESSIONS ANOM_LOGIN_TIME ANOM_MAX_DAC ANOM_MAX_MAC
    ANOM_MK_EXEC ANOM_MOD_ACCT ANOM_PROMISCUOUS ANOM_RBAC_FAIL ANOM_RBAC_INTEGRITY_FAIL
    ANOM_ROOT_TRANS AVC AVC_PATH BPF BPRM_FCAPS CAPSET CHGRP_ID CHUSER_ID CONFIG_CHANGE
    CRED_ACQ CRED_DISP CRED_REFR CRYPTO_FAILURE_USER CRYPTO_IKE_SA CRYPTO_IPSEC_SA
    CRYPTO_KEY_USER CRYPTO_LOGIN CRYPTO_LOGOUT CRYPTO_PARAM_CHANGE_USER CRYPTO_REPLAY_USER
    CRYPTO_SESSION CRYPTO_TEST_USER CWD DAC_CHECK DAEMON_ABORT DAEMON_ACCEPT DAEMON_CLOSE
    DAEMON_CONFIG DAEMON_END DAEMON_ERR DAEMON_RESUME DAEMON_ROTATE DAEMON_START DEL_GROUP
    DEL_USER DEV_ALLOC DEV_DEALLOC EOE EXECVE FANOTIFY FD_PAIR FEATURE_CHANGE FS_RELABEL
    GRP_AUTH GRP_CHAUTHTOK GRP_MGMT INTEGRITY_DATA INTEGRITY_EVM_XATTR INTEGRITY_HASH
    INTEGRITY_METADATA INTEGRITY_PCR INTEGRITY_POLICY_RULE INTEGRITY_RULE INTEGRITY_STATUS IPC
    IPC_SET_PERM KERNEL KERNEL_OTHER KERN_MODULE LABEL_LEVEL_CHANGE LABEL_OVERRIDE LOGIN
    MAC_CALIPSO_ADD MAC_CALIPSO_DEL MAC_CHECK MAC_CIPSOV4_ADD MAC_CIPSOV4_DEL MAC_CONFIG_CHANGE
    MAC_IPSEC_ADDSA MAC_IPSEC_ADDSPD MAC_IPSEC_DELSA MAC_IPSEC_DELSPD MAC_IPSEC_EVENT
    MAC_MAP_ADD MAC_MAP_DEL MAC_POLICY_LOAD MAC_STATUS MAC_UNLBL_ALLOW MAC_UNLBL_STCADD
    MAC_UNLBL_STCDEL MMAP MQ_GETSETATTR MQ_NOTIFY MQ_OPEN MQ_SENDRECV NETFILTER_CFG
    NETFILTER_PKT OBJ_PID PATH PROCTITLE RESP_ACCT_LOCK RESP_ACCT_LOCK_TIMED RESP_ACCT_REMOTE
    RESP_ACCT_UNLOCK_TIMED RESP_ALERT RESP_ANOMALY RESP_EXEC RESP_HALT RESP_KILL_PROC
    RESP_SEBOOL RESP_SINGLE RESP_TERM_ACCESS RESP_TERM_LOCK ROLE_ASSIGN ROLE_MODIFY
    ROLE_REMOVE SECCOMP SELINUX_ERR SERVICE_START SERVICE_STOP SOCKADDR SOCKETCALL
    SOFTWARE_UPDATE SYSCALL SYSTEM_BOOT SYSTEM_RUNLEVEL SYSTEM_SHUTDOWN TEST TIME_ADJNTPVAL
    TIME_INJOFFSET TRUSTED_APP TTY USER USER_ACCT USER_AUTH USER_AVC USER_CHAUTHTOK USER_CMD
    USER_DEVICE USER_END USER_ERR USER_LABELED_EXPORT USER_LOGIN USER_LOGOUT
    USER_MAC_CONFIG_CHANGE USER_MAC_POLICY_LOAD USER_MGMT USER_ROLE_CHANGE USER_SELINUX_ERR
    USER_START USER_TTY USER_UNLABELED_EXPORT USYS_CONFIG VIRT_CONTROL VIRT_CREATE
    VIRT_DESTROY VIRT_INTEGRITY_CHECK VIRT_MACHINE_ID VIRT_MIGRATE_IN VIRT_MIGRATE_OUT
    VIRT_RESOURCE
"""
AUDIT_RECORD_TYPES: tuple[str, ...] = tuple(_AUDIT_TYPES_TEXT.split())

# Syslog facility keywords (RFC 5424 §6.2.1 / syslog(3) names, as rsyslog and journald print
# them): an event is a syslog message when its `facility` is one of them.
SYSLOG_FACILITIES: tuple[str, ...] = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    *(f"local{i}" for i in range(8)),
)

# Sigma `service` -> (field, values) of a syslog message as JSON (`docs/detect-mappings.md`).
SYSLOG_SERVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "syslog": ("facility", SYSLOG_FACILITIES),
    "auth": ("facility", ("auth", "authpriv")),
    "sshd": ("appname", ("sshd",)),
    "sudo": ("appname", ("sudo",)),
    "cron": ("appname", ("cron", "crond", "anacron")),
    "clamav": ("appname", ("clamd", "freshclam", "clamav", "clamscan")),
    "guacamole": ("appname", ("guacd", "guacamole")),
    "vsftpd": ("appname", ("vsftpd",)),
}


class LinuxMapping:
    """`product: linux` rules over JSON Linux events; native (identity) field names."""

    def route(self, rule: RuleInfo) -> Route | NoRoute:
        if rule.product != "linux":
            return NoRoute(f"logsource product {rule.product!r} is not mapped (only 'linux')")
        if rule.category is not None:
            ids = LINUX_SYSMON_CATEGORIES.get(rule.category)
            if ids is None:
                return NoRoute(
                    f"logsource product 'linux' category {rule.category!r} is not mapped"
                )
            return Route(channels=(LINUX_SYSMON_CHANNEL,), event_ids=tuple(str(i) for i in ids))
        if rule.service is None:
            return Route()  # product only: every event of the input
        if rule.service == "auditd":
            return Route(extra=(("type", AUDIT_RECORD_TYPES),))
        found = SYSLOG_SERVICES.get(rule.service)
        if found is None:
            return NoRoute(f"logsource product 'linux' service {rule.service!r} is not mapped")
        name, values = found
        return Route(extra=((name, values),))

    def field(self, name: str) -> str:
        return name


# -- tagged -------------------------------------------------------------------------------------
# Reserved event columns declaring an event's log source (dotted: the JSONL reader takes the
# literal key when present, else the nested `{"logsource": {...}}` path). `civicshield detect`
# spells them out again (it must not import this pySigma-importing module; a test keeps them equal).
LOGSOURCE_PRODUCT_FIELD = "logsource.product"
LOGSOURCE_SERVICE_FIELD = "logsource.service"
LOGSOURCE_CATEGORY_FIELD = "logsource.category"
LOGSOURCE_FIELDS: tuple[str, ...] = (
    LOGSOURCE_PRODUCT_FIELD,
    LOGSOURCE_SERVICE_FIELD,
    LOGSOURCE_CATEGORY_FIELD,
)


def route_tagged(product: str | None, category: str | None, service: str | None) -> Route | NoRoute:
    """Events whose declared log source equals the rule's (case-insensitive), for each of
    product / service / category the rule sets; what the rule leaves out is not checked."""
    wanted = (
        (LOGSOURCE_PRODUCT_FIELD, product),
        (LOGSOURCE_SERVICE_FIELD, service),
        (LOGSOURCE_CATEGORY_FIELD, category),
    )
    extra = tuple((name, (value,)) for name, value in wanted if value)
    if not extra:  # it would see every event of every source
        return NoRoute("logsource has no product, service or category: nothing to route on")
    return Route(extra=extra)


class TaggedMapping:
    """Any product's own logs, routed by the events' `logsource.*` tags; native field names
    (the rules use the product's own names, e.g. CloudTrail `eventName`)."""

    def route(self, rule: RuleInfo) -> Route | NoRoute:
        return route_tagged(rule.product, rule.category, rule.service)

    def field(self, name: str) -> str:
        return name


class CombinedMapping:
    """Windows, Linux and tagged rules in one run (native field names): `windows` and `linux`
    rules route as their own mappings do (a product-only rule of either OS sees every event of
    the input); every other rule, with another product or none, routes on the `logsource.*`
    tags (`TaggedMapping`)."""

    def __init__(self) -> None:
        self._by_product: dict[str, LogsourceMapping] = {
            "windows": WindowsNativeMapping(),
            "linux": LinuxMapping(),
        }
        self._tagged = TaggedMapping()

    def route(self, rule: RuleInfo) -> Route | NoRoute:
        mapping = self._by_product.get(rule.product or "", self._tagged)
        return mapping.route(rule)

    def field(self, name: str) -> str:
        return name


# -- registry -----------------------------------------------------------------------------------
MAPPINGS: dict[str, LogsourceMapping] = {
    "windows": WindowsNativeMapping(),
    "winlogbeat": WinlogbeatMapping(),
    "linux": LinuxMapping(),
    "combined": CombinedMapping(),
    "tagged": TaggedMapping(),
}


class UnknownMappingError(ValueError):
    pass


def mapping_named(name: str) -> LogsourceMapping:
    """The registered mapping called `name` (`UnknownMappingError` lists the choices)."""
    try:
        return MAPPINGS[name]
    except KeyError:
        choices = ", ".join(sorted(MAPPINGS))
        message = f"unknown field mapping {name!r} (choose one of: {choices})"
        raise UnknownMappingError(message) from None
