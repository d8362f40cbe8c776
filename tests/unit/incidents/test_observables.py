"""Observables: validation naming the field, normalisation, taking them from alerts, and
related cases by shared observables within a sector operator's scope."""

from __future__ import annotations

import pytest

from civicshield.core import Sector
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Conflict, Invalid, NotFound
from civicshield.incidents.cases import create_case, open_from_alerts
from civicshield.incidents.observables import (
    ObservableCreate,
    add_observable,
    from_alerts,
    list_observables,
    normalise,
    related_cases,
    remove_observable,
)
from civicshield.incidents.schemas import CaseCreate, CaseFromAlerts
from civicshield.runtime import Runtime
from tests.unit.incidents.test_cases import seed

ANA = Actor(kind="user", name="ana")


@pytest.mark.parametrize(
    ("kind", "value", "field", "words"),
    [
        ("ipv4", "10.0.0.300", "value", "IPv4"),
        ("ipv4", "fe80::1", "value", "IPv4"),
        ("sha256", "ab" * 31, "value", "64 hexadecimal"),
        ("md5", "z" * 32, "value", "32 hexadecimal"),
        ("domain", "bad_domain-.example", "value", "domain"),
        ("url", "javascript:alert(1)", "value", "URL"),
        ("colour", "red", "type", "unknown observable type"),
        ("email", "   ", "value", "empty"),
    ],
)
def test_bad_values_name_the_field(kind: str, value: str, field: str, words: str) -> None:
    with pytest.raises(Invalid) as caught:
        normalise(kind, value)
    assert caught.value.errors[0].loc == ("body", field)
    assert words in caught.value.errors[0].msg


def test_values_are_normalised() -> None:
    assert normalise("domain", "Mail.Example.ORG.") == "mail.example.org"
    assert normalise("ipv6", "2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1"
    assert normalise("sha1", "A" * 40) == "a" * 40
    assert normalise("cidr", "10.1.2.3/8") == "10.0.0.0/8"
    assert normalise("url", "HTTP://Evil.Example/Path?q=A") == "http://evil.example/Path?q=A"
    assert normalise("email", "Ana@Example.ORG") == "Ana@example.org"
    assert normalise("asn", "as64500") == "AS64500"


def test_add_remove_from_alerts_and_duplicates(runtime: Runtime, clock: FrozenClock) -> None:
    first, _ = seed(runtime, clock)
    with runtime.session() as s:
        case = open_from_alerts(s, CaseFromAlerts(alert_ids=[first]), actor=ANA, clock=clock)
        added = add_observable(
            s, case.id, ObservableCreate(type="domain", value="C2.Example.NET", ioc=True),
            actor=ANA, clock=clock,
        )  # fmt: skip
        assert added.value == "c2.example.net" and added.stix_type == "domain-name"
        with pytest.raises(Conflict, match="already has"):
            add_observable(
                s, case.id, ObservableCreate(type="domain", value="c2.example.net"),
                actor=ANA, clock=clock,
            )  # fmt: skip
        taken = from_alerts(s, case.id, actor=ANA, clock=clock)
        assert {(o.type, o.value) for o in taken} == {
            ("ipv4", "10.0.0.5"), ("ipv4", "10.20.0.9"),
        }  # fmt: skip
        assert from_alerts(s, case.id, actor=ANA, clock=clock) == []  # idempotent
        remove_observable(s, case.id, added.id, actor=ANA, clock=clock)
        with pytest.raises(NotFound):
            remove_observable(s, case.id, added.id, actor=ANA, clock=clock)
        assert len(list_observables(s, case.id)) == 2


def test_related_cases_share_observables_within_scope(runtime: Runtime, clock: FrozenClock) -> None:
    with runtime.session() as s:
        ids = [
            create_case(s, CaseCreate(title=t, sectors=[sector]), actor=ANA, clock=clock).id
            for t, sector in (("Case A", Sector.WATER), ("Case B", Sector.WATER),
                              ("Case C", Sector.TRANSPORT), ("Case D", Sector.WATER))
        ]  # fmt: skip
        for case_id in ids[:3]:
            add_observable(
                s, case_id, ObservableCreate(type="ipv4", value="203.0.113.7"),
                actor=ANA, clock=clock,
            )  # fmt: skip
        add_observable(
            s, ids[3], ObservableCreate(type="hostname", value="203.0.113.7"), actor=ANA,
            clock=clock,
        )  # fmt: skip
        found = related_cases(s, ids[0])
        assert [(r.id, r.shared) for r in found] == [
            (ids[1], ["ipv4:203.0.113.7"]), (ids[2], ["ipv4:203.0.113.7"]),
        ]  # fmt: skip
        scoped = related_cases(s, ids[0], frozenset({Sector.WATER}))
        assert [r.id for r in scoped] == [ids[1]]
        with pytest.raises(NotFound):
            related_cases(s, ids[2], frozenset({Sector.WATER}))
