"""The policy file: shipped default, `<data_dir>/sharing.yaml` overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicshield.core import ConfigError, Tlp

from .conftest import policy


def test_default_policy(tmp_path: Path) -> None:
    shipped = policy(tmp_path)
    assert shipped.refuse_multi_city_tlp == (Tlp.RED, Tlp.AMBER_STRICT)
    assert shipped.internal_action == "pseudonymise" and shipped.emails and shipped.phones
    assert "x_civicshield_" in shipped.strip_property_prefixes
    assert shipped.sources == ("(built-in default)",)
    assert "10.0.0.0/8" in shipped.as_dict()["builtin_internal_networks"]


def test_override_merges_sections_and_replaces_keys(tmp_path: Path) -> None:
    merged = policy(
        tmp_path,
        "internal_networks: [200.57.10.0/24]\npersonal_data: {phones: false}\n"
        "own_email_domains: [Ciudad.gob.mx]\n",
    )
    assert merged.internal_networks == ("200.57.10.0/24",)
    assert (merged.phones, merged.emails) == (False, True)  # the other personal keys stay
    assert merged.own_email_domains == ("ciudad.gob.mx",)
    assert merged.sources[-1].endswith("sharing.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour: red\n", "unknown key 'colour'"),
        ("internal_networks: [10.0.0.999/8]\n", "internal_networks: '10.0.0.999/8' is not a CIDR"),
        ("refuse_multi_city_tlp: [purple]\n", "refuse_multi_city_tlp"),
        ("internal_addresses: {action: hash}\n", "internal_addresses.action: 'hash'"),
        ("personal_data: {emails: maybe}\n", "personal_data: emails: expected true or false"),
        ("- a\n- b\n", "expected a mapping"),
        ("a: [\n", "not valid YAML"),
    ],
)
def test_bad_override_names_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        policy(tmp_path, text)
    assert message in str(err.value) and "sharing.yaml" in str(err.value)
