"""The sharing policy: the shipped default (`default_policy.yaml`) with the city's overrides
from `<data_dir>/sharing.yaml`. A wrong override is a `ConfigError` naming the file and key,
never a silently weaker policy."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from civicshield.core.enums import Tlp
from civicshield.core.errors import ConfigError
from civicshield.core.settings import Settings

__all__ = ["BUILTIN_INTERNAL", "OVERRIDE_FILE", "SharingPolicy", "load_policy"]

OVERRIDE_FILE = "sharing.yaml"
BUILTIN_INTERNAL = (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
    "fc00::/7", "::1/128", "fe80::/10",
)  # fmt: skip
_MERGED = ("personal_data", "internal_addresses")
_ACTIONS = ("pseudonymise", "remove")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class SharingPolicy:
    refuse_multi_city_tlp: tuple[Tlp, ...]
    internal_networks: tuple[str, ...]  # the configured ones (the built-in ones always apply)
    internal_action: str
    emails: bool
    phones: bool
    person_names: bool
    name_titles: tuple[str, ...]
    people: tuple[str, ...]
    text_properties: tuple[str, ...]
    own_email_domains: tuple[str, ...]
    never_share_types: tuple[str, ...]
    never_share_identity_classes: tuple[str, ...]
    strip_property_prefixes: tuple[str, ...]
    sources: tuple[str, ...]  # the files it was read from

    def networks(self) -> list[Network]:
        return [ipaddress.ip_network(n) for n in (*BUILTIN_INTERNAL, *self.internal_networks)]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["refuse_multi_city_tlp"] = [t.value for t in self.refuse_multi_city_tlp]
        data["builtin_internal_networks"] = list(BUILTIN_INTERNAL)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def _read(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of policy keys")
    return data


def _strings(data: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key}: expected a list of strings")
    return tuple(value)


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key, True)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key}: expected true or false")
    return value


def _build(data: dict[str, Any], where: str, sources: tuple[str, ...]) -> SharingPolicy:
    try:
        levels = tuple(Tlp(v) for v in _strings(data, "refuse_multi_city_tlp", where))
    except ValueError as exc:
        raise ConfigError(f"{where}: refuse_multi_city_tlp: {exc}") from None
    networks = _strings(data, "internal_networks", where)
    for net in networks:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(f"{where}: internal_networks: {net!r} is not a CIDR") from None
    action = str(data.get("internal_addresses", {}).get("action", "pseudonymise"))
    if action not in _ACTIONS:
        raise ConfigError(
            f"{where}: internal_addresses.action: {action!r} is not one of {_ACTIONS}"
        )
    personal = data.get("personal_data", {})
    if not isinstance(personal, dict):
        raise ConfigError(f"{where}: personal_data: expected a mapping")
    where_pd = f"{where}: personal_data"
    return SharingPolicy(
        refuse_multi_city_tlp=levels,
        internal_networks=tuple(str(ipaddress.ip_network(n, strict=False)) for n in networks),
        internal_action=action,
        emails=_flag(personal, "emails", where_pd),
        phones=_flag(personal, "phones", where_pd),
        person_names=_flag(personal, "person_names", where_pd),
        name_titles=_strings(personal, "name_titles", where_pd),
        people=_strings(personal, "people", where_pd),
        text_properties=_strings(data, "text_properties", where),
        own_email_domains=tuple(d.lower() for d in _strings(data, "own_email_domains", where)),
        never_share_types=_strings(data, "never_share_types", where),
        never_share_identity_classes=_strings(data, "never_share_identity_classes", where),
        strip_property_prefixes=_strings(data, "strip_property_prefixes", where),
        sources=sources,
    )


def load_policy(settings: Settings) -> SharingPolicy:
    """The policy in effect: the default, then `<data_dir>/sharing.yaml` when it exists."""
    default = (
        resources.files("civicshield.intel.sharing")
        .joinpath("default_policy.yaml")
        .read_text("utf-8")
    )
    data = _read(default, "default_policy.yaml")
    known = set(data)
    sources = ["(built-in default)"]
    path = Path(settings.data_dir) / OVERRIDE_FILE
    if path.is_file():
        where = str(path)
        try:
            override = _read(path.read_text(encoding="utf-8"), where)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read: {exc}") from None
        for key, value in override.items():
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown key {key!r} (known: {', '.join(sorted(known))})"
                )
            if key in _MERGED:
                if not isinstance(value, dict):
                    raise ConfigError(f"{where}: {key}: expected a mapping")
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        sources.append(where)
        return _build(data, where, tuple(sources))
    return _build(data, "default_policy.yaml", tuple(sources))
