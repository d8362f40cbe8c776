"""Field mappings: Winlogbeat (and its pySigma pipeline), Linux, tagged, the registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sigma.backends.test import TextQueryTestBackend
from sigma.collection import SigmaCollection

from civicshield.detect.engine import NoRoute, Route, WindowsNativeMapping, compile_rules, evaluate
from civicshield.detect.engine.mappings import (
    AUDIT_RECORD_TYPES,
    LOGSOURCE_FIELDS,
    MAPPINGS,
    CombinedMapping,
    LinuxMapping,
    TaggedMapping,
    UnknownMappingError,
    WinlogbeatMapping,
    mapping_named,
    route_tagged,
    winlogbeat_pipeline,
)
from civicshield.detect.readers import batch_from_lines
from civicshield.detect.sigma.loader import _info
from civicshield.detect.sigma.model import RuleInfo

RULE_ID = "bbbbbbbb-2222-4222-8222-222222222222"
SYSMON = "Microsoft-Windows-Sysmon/Operational"


def rule_text(logsource: str, detection: str) -> str:
    return (
        f"title: T\nid: {RULE_ID}\nstatus: test\nauthor: tests\nlevel: high\n"
        f"logsource:\n{logsource}detection:\n{detection}"
    )


def make_rule(logsource: str, detection: str = "    sel:\n        Image: x\n    condition: sel\n"):
    rule = SigmaCollection.from_yaml(rule_text(logsource, detection)).rules[0]
    return _info(rule, Path("/r/t.yml"), "t.yml")


def logsource(product: str | None, category: str | None = None, service: str | None = None) -> str:
    text = f"    product: {product}\n" if product else ""
    text += f"    category: {category}\n" if category else ""
    text += f"    service: {service}\n" if service else ""
    return text


def fired(rule: RuleInfo, mapping: object, events: list[dict[str, object]]) -> list[int]:
    ruleset = compile_rules([rule], mapping)  # type: ignore[arg-type]
    assert not ruleset.unsupported, ruleset.unsupported
    lines = [(n, json.dumps(e).encode()) for n, e in enumerate(events, start=1)]
    batch = batch_from_lines("t", lines, ruleset.fields, values=ruleset.needs_values)
    return sorted(evaluate(ruleset, batch.frame)["event_index"].to_list())


# -- Winlogbeat ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("native", "winlogbeat"),
    [
        ("Image", "winlog.event_data.Image"),
        ("CommandLine", "winlog.event_data.CommandLine"),
        ("Channel", "winlog.channel"),
        ("EventID", "winlog.event_id"),
        ("Provider_Name", "winlog.provider_name"),
        ("Computer", "winlog.computer_name"),
        ("EventRecordID", "winlog.record_id"),
        ("ProcessID", "winlog.process.pid"),
        ("ProcessId", "winlog.event_data.ProcessId"),  # event data, not Execution/@ProcessID
        ("ThreadID", "winlog.process.thread.id"),
        ("Level", "log.level"),
    ],
)
def test_winlogbeat_field_names(native: str, winlogbeat: str) -> None:
    assert WinlogbeatMapping().field(native) == winlogbeat


def test_winlogbeat_routes_like_native_windows_on_winlog_fields() -> None:
    rule = make_rule(logsource("windows", category="process_creation"))
    native = WindowsNativeMapping().route(rule)
    route = WinlogbeatMapping().route(rule)
    assert isinstance(native, Route) and isinstance(route, Route)
    assert (
        (route.channels, route.event_ids)
        == (native.channels, native.event_ids)
        == (
            (SYSMON,),
            ("1",),
        )
    )
    assert route.fields == {"winlog.channel", "winlog.event_id"}
    unknown = WinlogbeatMapping().route(make_rule(logsource("windows", category="nope")))
    assert isinstance(unknown, NoRoute) and "'nope'" in unknown.reason


def test_winlogbeat_rule_fires_on_nested_and_dotted_events_of_its_log_source() -> None:
    detection = "    sel:\n        Image|endswith: '\\cmd.exe'\n    condition: sel\n"
    rule = make_rule(logsource("windows", category="process_creation"), detection)
    nested = {"winlog": {"channel": SYSMON, "event_id": 1, "event_data": {"Image": "C:\\cmd.exe"}}}
    dotted = {
        "winlog.channel": SYSMON,
        "winlog.event_id": "1",
        "winlog.event_data.Image": "C:\\CMD.EXE",
    }
    security = {"winlog": {"channel": "Security", "event_id": 1, "event_data": nested["winlog"]}}
    native = {"Channel": SYSMON, "EventID": 1, "Image": "C:\\cmd.exe"}  # not Winlogbeat shape
    assert fired(rule, WinlogbeatMapping(), [nested, dotted, security, native]) == [0, 1]


def test_winlogbeat_pipeline_gives_other_backends_the_same_names_and_routing() -> None:
    detection = "    sel:\n        Image: x\n        Computer: y\n    condition: sel\n"
    text = rule_text(logsource("windows", category="process_creation"), detection)
    query = TextQueryTestBackend(winlogbeat_pipeline()).convert(SigmaCollection.from_yaml(text))
    mapping = WinlogbeatMapping()
    for name in ("Channel", "EventID", "Image", "Computer"):
        assert f"'{mapping.field(name)}'" in query[0]
    assert SYSMON in query[0] and "'Image'" not in query[0]
    service = rule_text(logsource("windows", service="security"), detection)
    query = TextQueryTestBackend(winlogbeat_pipeline()).convert(SigmaCollection.from_yaml(service))
    assert "'winlog.channel'=\"Security\"" in query[0]


# -- Linux --------------------------------------------------------------------------------------
def test_linux_routes() -> None:
    linux = LinuxMapping()
    route = linux.route(make_rule(logsource("linux", category="process_creation")))
    assert route == Route(channels=("Linux-Sysmon/Operational",), event_ids=("1",))
    route = linux.route(make_rule(logsource("linux", category="file_event")))
    assert isinstance(route, Route) and route.event_ids == ("11",)
    route = linux.route(make_rule(logsource("linux", service="auditd")))
    assert isinstance(route, Route) and route.extra == (("type", AUDIT_RECORD_TYPES),)
    assert linux.route(make_rule(logsource("linux", service="sshd"))) == Route(
        extra=(("appname", ("sshd",)),)
    )
    assert linux.route(make_rule(logsource("linux"))) == Route()
    assert linux.field("a0") == "a0"


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (logsource("linux", category="registry_set"), ["linux", "'registry_set'"]),
        (logsource("linux", service="nginx"), ["linux", "'nginx'"]),
        (logsource("windows", category="process_creation"), ["'windows'", "only 'linux'"]),
    ],
)
def test_linux_unknown_log_sources_have_no_route(source: str, words: list[str]) -> None:
    route = LinuxMapping().route(make_rule(source))
    assert isinstance(route, NoRoute)
    for word in words:
        assert word in route.reason


def test_auditd_rule_sees_only_audit_records() -> None:
    detection = "    sel:\n        type: EXECVE\n        a0: wget\n    condition: sel\n"
    rule = make_rule(logsource("linux", service="auditd"), detection)
    events: list[dict[str, object]] = [
        {"type": "EXECVE", "argc": 2, "a0": "wget", "a1": "http://x"},
        {"type": "SYSCALL", "a0": "wget"},
        {"appname": "sshd", "a0": "wget"},
    ]
    assert fired(rule, LinuxMapping(), events) == [0]
    keyword = make_rule(
        logsource("linux", service="auditd"), "    k:\n        - wget\n    condition: k\n"
    )
    assert fired(keyword, LinuxMapping(), events) == [0, 1]  # a keyword: audit records only


def test_syslog_services_route_on_appname_and_facility() -> None:
    keywords = "    k:\n        - 'Failed password'\n    condition: k\n"
    text = "Failed password for root from 10.0.0.1"
    events: list[dict[str, object]] = [
        {"facility": "auth", "appname": "sshd", "message": text},
        {"facility": "authpriv", "appname": "sudo", "message": text},
        {"facility": "daemon", "appname": "named", "message": text},
        {"type": "USER_AUTH", "msg": text},
    ]
    assert fired(
        make_rule(logsource("linux", service="sshd"), keywords), LinuxMapping(), events
    ) == [0]
    assert fired(
        make_rule(logsource("linux", service="auth"), keywords), LinuxMapping(), events
    ) == [0, 1]
    assert fired(
        make_rule(logsource("linux", service="syslog"), keywords), LinuxMapping(), events
    ) == [
        0,
        1,
        2,
    ]
    assert fired(make_rule(logsource("linux"), keywords), LinuxMapping(), events) == [0, 1, 2, 3]


# -- registry -----------------------------------------------------------------------------------
def test_registry_and_mapping_named() -> None:
    assert set(MAPPINGS) == {"windows", "winlogbeat", "linux", "combined", "tagged"}
    assert isinstance(mapping_named("windows"), WindowsNativeMapping)
    assert isinstance(mapping_named("winlogbeat"), WinlogbeatMapping)
    assert isinstance(mapping_named("tagged"), TaggedMapping)
    with pytest.raises(UnknownMappingError, match="choose one of: combined, linux, tagged, win"):
        mapping_named("splunk")


def test_combined_routes_by_product() -> None:
    combined = CombinedMapping()
    windows = combined.route(make_rule(logsource("windows", category="process_creation")))
    linux = combined.route(make_rule(logsource("linux", category="process_creation")))
    assert isinstance(windows, Route) and windows.channels == (SYSMON,)
    assert isinstance(linux, Route) and linux.channels == ("Linux-Sysmon/Operational",)
    other = combined.route(make_rule(logsource("macos", category="process_creation")))
    assert other == Route(
        extra=(("logsource.product", ("macos",)), ("logsource.category", ("process_creation",)))
    )
    # Windows/Linux log sources their own mappings lack keep those mappings' reasons
    unmapped = combined.route(make_rule(logsource("windows", category="no_such_category")))
    assert isinstance(unmapped, NoRoute) and "'no_such_category'" in unmapped.reason


def test_combined_runs_tagged_rules_on_tagged_events_only() -> None:
    aws = make_rule(logsource("aws", service="cloudtrail"), EVENT_NAME)
    windows = make_rule(logsource("windows", category="process_creation"))
    events: list[dict[str, object]] = [
        {"eventName": "DeleteBucket", "logsource": {"product": "aws", "service": "cloudtrail"}},
        {"eventName": "DeleteBucket"},
        {"Channel": SYSMON, "EventID": 1, "Image": "x", "logsource.product": "aws"},
    ]
    assert fired(aws, CombinedMapping(), events) == [0]
    assert fired(windows, CombinedMapping(), events) == [2]  # no tag needed for Windows


# -- tagged -------------------------------------------------------------------------------------
EVENT_NAME = "    sel:\n        eventName: DeleteBucket\n    condition: sel\n"


def tagged(source: str, events: list[dict[str, object]]) -> list[int]:
    return fired(make_rule(source, EVENT_NAME), TaggedMapping(), events)


def event(**tags: str) -> dict[str, object]:
    return {"eventName": "DeleteBucket", **{f"logsource.{k}": v for k, v in tags.items()}}


def test_tagged_routes_on_what_the_rule_sets() -> None:
    route = TaggedMapping().route(make_rule(logsource("aws", service="cloudtrail")))
    assert route == Route(
        extra=(("logsource.product", ("aws",)), ("logsource.service", ("cloudtrail",)))
    )
    assert route.fields == frozenset({"logsource.product", "logsource.service"})
    assert set(route.fields) <= set(LOGSOURCE_FIELDS)
    assert TaggedMapping().field("eventSource") == "eventSource"  # native names


def test_tagged_product_only() -> None:
    events = [event(product="aws"), event(product="aws", service="cloudtrail"), event()]
    assert tagged(logsource("aws"), events) == [0, 1]


def test_tagged_product_and_service() -> None:
    events = [
        event(product="aws", service="cloudtrail"),
        event(product="aws"),  # no service tag: not this rule's source
        event(product="aws", service="s3"),
        event(product="gcp", service="cloudtrail"),
    ]
    assert tagged(logsource("aws", service="cloudtrail"), events) == [0]


def test_tagged_category_only() -> None:
    events = [event(category="proxy"), event(product="zeek", category="proxy"), event()]
    assert tagged(logsource(None, category="proxy"), events) == [0, 1]
    assert tagged(logsource(None, category="webserver"), events) == []


def test_tagged_is_case_insensitive_and_reads_nested_tags() -> None:
    events: list[dict[str, object]] = [
        event(product="AWS", service="CloudTrail"),
        {"eventName": "DeleteBucket", "logsource": {"product": "Aws", "service": "cloudtrail"}},
    ]
    assert tagged(logsource("aws", service="cloudtrail"), events) == [0, 1]
    upper = "    product: AWS\n    service: CLOUDTRAIL\n"
    assert tagged(upper, [event(product="aws", service="cloudtrail")]) == [0]


def test_tagged_without_a_logsource_has_no_route() -> None:
    # pySigma refuses such a rule; the route still must not be "every event"
    route = route_tagged(None, None, None)
    assert isinstance(route, NoRoute) and "nothing to route on" in route.reason
