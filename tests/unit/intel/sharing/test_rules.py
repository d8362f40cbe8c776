"""The sharing policy over STIX objects: TLP refusals, personal data and internal addresses
stripped or pseudonymised, custom properties removed, and the result still valid STIX 2.1."""

from __future__ import annotations

from pathlib import Path

from civicshield.core import Tlp
from civicshield.intel.sharing import Prepared, Pseudonymiser, Target, apply_policy, pseudonym_key
from civicshield.intel.tlp import marking_id

from .conftest import assert_valid_bundle, indicator, obj, policy

PSEUDO = Pseudonymiser(pseudonym_key("test-secret-key-0123456789abcdef"))
MULTI = Target(multi_city=True)


def run(
    tmp_path: Path,
    objects: list[dict[str, object]],
    target: Target = MULTI,
    override: str | None = None,
) -> Prepared:
    return apply_policy(
        objects, policy(tmp_path, override), target, default_tlp=Tlp.AMBER, pseudonym=PSEUDO
    )


def test_red_and_amber_strict_refused_for_multi_city_but_listed(tmp_path: Path) -> None:
    red = indicator("[ipv4-addr:value = '45.33.32.156']", Tlp.RED)
    strict = indicator("[domain-name:value = 'kraken-iot.example']", Tlp.AMBER_STRICT)
    green = indicator("[domain-name:value = 'cnc.example']")
    done = run(tmp_path, [red, strict, green])
    assert [o["id"] for o in done.objects if o["type"] == "indicator"] == [green["id"]]
    assert {(r.object_id, r.rule) for r in done.refusals} == {
        (red["id"], "tlp-multi-city"),
        (strict["id"], "tlp-multi-city"),
    }
    assert "TLP:RED" in next(r.reason for r in done.refusals if r.object_id == red["id"])
    # One city only: AMBER+STRICT may go (its audience is the recipient organisation).
    single = run(tmp_path, [strict], Target(multi_city=False))
    assert not single.refusals and single.objects[0]["id"] == strict["id"]
    # A collection's TLP ceiling holds too.
    capped = run(
        tmp_path,
        [indicator("[domain-name:value = 'a.example']", Tlp.AMBER)],
        Target(multi_city=False, tlp=Tlp.GREEN),
    )
    assert capped.refusals[0].rule == "tlp-collection"


def test_unmarked_objects_get_the_default_tlp_and_markings_join_the_bundle(tmp_path: Path) -> None:
    bare = indicator("[domain-name:value = 'kraken-iot.example']", None)
    done = run(tmp_path, [bare])
    shared = done.objects[0]
    assert shared["object_marking_refs"] == [marking_id(Tlp.AMBER)]
    assert ("object_marking_refs", "marked", "tlp-default") in {
        (c.property, c.action, c.rule) for c in done.changes
    }
    markings = [o for o in done.objects if o["type"] == "marking-definition"]
    assert [m["id"] for m in markings] == [marking_id(Tlp.AMBER)]
    assert "object_marking_refs" not in bare  # the input is never modified
    assert_valid_bundle(done.bundle())


def test_internal_addresses_pseudonymised_consistently(tmp_path: Path) -> None:
    first = indicator(
        "[ipv4-addr:value = '10.20.0.7'] OR [ipv4-addr:value = '45.33.32.156']",
        description="Seen from 10.20.0.7 and fd00::12 talking to 45.33.32.156",
    )
    second = indicator("[ipv4-addr:value = '10.20.0.7']")
    done = run(tmp_path, [first, second])
    a, b = done.objects[0], done.objects[1]
    token = PSEUDO("10.20.0.7")
    assert token.startswith("internal-") and token in a["pattern"] and token in b["pattern"]
    assert "10.20.0.7" not in str(done.objects) and "fd00::12" not in str(done.objects)
    assert "45.33.32.156" in a["pattern"]  # the attacker's address is the intelligence
    assert {(c.object_id, c.property, c.action) for c in done.changes} >= {
        (first["id"], "pattern", "pseudonymised"),
        (first["id"], "description", "pseudonymised"),
    }
    # The same address gets the same token in a later publication (same key).
    again = run(tmp_path, [indicator("[ipv4-addr:value = '10.20.0.7']")])
    assert token in again.objects[0]["pattern"]
    assert_valid_bundle(done.bundle())


def test_configured_city_networks_and_remove_action(tmp_path: Path) -> None:
    override = "internal_networks: [200.57.10.0/24]\ninternal_addresses: {action: remove}\n"
    ours = indicator("[ipv4-addr:value = '200.57.10.9']")
    text = indicator("[domain-name:value = 'x.example']", description="from 200.57.10.9")
    addr = obj("ipv4-addr", value="192.168.1.20")
    done = run(tmp_path, [ours, text, addr], override=override)
    assert {r.object_id: r.rule for r in done.refusals} == {
        ours["id"]: "internal-address",
        addr["id"]: "never-shared",
    }
    assert done.objects[0]["description"] == "from [internal address removed]"


def test_personal_data_redacted_and_custom_properties_removed(tmp_path: Path) -> None:
    note = obj(
        "note",
        content="Call Sra. María López on +52 55 1234 5678 or mail mlopez@ciudad.gob.mx",
        object_refs=[f"indicator--{'0' * 8}-0000-4000-8000-{'0' * 12}"],
    )
    ind = indicator(
        "[domain-name:value = 'kraken-iot.example']",
        description="Reported by Dr. Alan Turing (alan@example.org) on 2026-11-01",
        x_civicshield_entries=["spool-1"],
        x_peer_comment="ask Mr Smith",
    )
    done = run(tmp_path, [note, ind])
    n, i = done.objects[0], done.objects[1]
    assert n["content"] == "Call [name redacted] on [phone redacted] or mail [email redacted]"
    assert i["description"] == "Reported by [name redacted] ([email redacted]) on 2026-11-01"
    assert "x_civicshield_entries" not in i and i["x_peer_comment"] == "ask [name redacted]"
    rules = {(c.object_id, c.rule) for c in done.changes}
    assert {
        (n["id"], "personal-name"),
        (n["id"], "personal-phone"),
        (n["id"], "personal-email"),
        (i["id"], "internal-property"),
    } <= rules
    assert_valid_bundle(done.bundle())


def test_never_shared_types(tmp_path: Path) -> None:
    override = "own_email_domains: [ciudad.gob.mx]\n"
    person = obj("identity", name="Juan Pérez", identity_class="individual")
    account = obj("user-account", user_id="jperez")
    own = obj("email-addr", value="alcalde@ciudad.gob.mx")
    phish = obj("email-addr", value="billing@evil.example")
    pattern = indicator("[email-addr:value = 'alcalde@ciudad.gob.mx']")
    done = run(tmp_path, [person, account, own, phish, pattern], override=override)
    assert {r.object_id for r in done.refusals} == {person["id"], account["id"], own["id"]}
    assert [o["id"] for o in done.objects if o["type"] != "marking-definition"] == [
        phish["id"],
        pattern["id"],
    ]
    assert "alcalde@" not in done.objects[1]["pattern"]
    assert_valid_bundle(done.bundle())


def test_ordinary_numbers_are_not_phones(tmp_path: Path) -> None:
    ind = indicator(
        "[domain-name:value = 'x.example']",
        description="v2.14.1 build 20261101 seen 2026-11-01T10:00:00Z at 45.33.32.156",
    )
    done = run(tmp_path, [ind])
    assert done.objects[0]["description"] == ind["description"]
    assert not [c for c in done.changes if c.property == "description"]
