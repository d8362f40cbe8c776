"""A network segmentation policy as data: zones by CIDR and an ordered list of flow rules.

The first rule that matches a flow decides (allow or deny, with its reason); a flow inside one
zone follows `intra_zone`; a flow between zones that no rule matches follows `default`. An
address in no zone belongs to `outside_zone` (the internet, for a city).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from civicshield.core.errors import FieldError, Invalid

__all__ = ["DEFAULT_POLICY", "FlowRule", "Policy", "Zone", "load_policy", "parse_policy"]

DEFAULT_POLICY = Path(__file__).with_name("default_policy.yaml")
Protocol = Literal["tcp", "udp", "icmp"]
_ID = r"^[a-z0-9][a-z0-9-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Zone(_Strict):
    id: str = Field(pattern=_ID, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    cidrs: tuple[str, ...] = Field(min_length=1)
    description: str = ""


class FlowRule(_Strict):
    """`from`/`to` list zone ids (empty: any zone); `ports` are destination ports or ranges
    ("502", "1024-65535"; empty: any port); `protocols` empty: any."""

    id: str = Field(pattern=_ID, max_length=64)
    from_zones: tuple[str, ...] = Field(default=(), alias="from")
    to_zones: tuple[str, ...] = Field(default=(), alias="to")
    protocols: tuple[Protocol, ...] = ()
    ports: tuple[str, ...] = ()
    action: Literal["allow", "deny"]
    reason: str = Field(min_length=3, max_length=500)
    severity: Literal["low", "medium", "high", "critical"] = "high"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("from_zones", "to_zones", "ports", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        if isinstance(value, str | int):
            return (str(value),)
        if isinstance(value, list | tuple):
            return tuple(str(v) for v in value)
        return value

    def port_ranges(self) -> tuple[tuple[int, int], ...]:
        """The ports as (low, high) pairs; ((0, 65535),) for any port."""
        if not self.ports:
            return ((0, 65535),)
        return tuple(_port_range(p) for p in self.ports)


def _port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    lo, hi = int(low), int(high or low)
    if not 0 <= lo <= hi <= 65535:
        raise ValueError(f"port range {text!r} is not within 0-65535 with low <= high")
    return lo, hi


class Policy(_Strict):
    id: str = Field(default="city", pattern=_ID)
    version: str = Field(min_length=1)
    name: str = Field(min_length=1)
    outside_zone: str = Field(default="internet", pattern=_ID)
    intra_zone: Literal["allow", "deny"] = "allow"
    default: Literal["allow", "deny"] = "deny"
    default_severity: Literal["low", "medium", "high", "critical"] = "medium"
    zones: tuple[Zone, ...] = Field(min_length=1)
    rules: tuple[FlowRule, ...] = ()

    @model_validator(mode="after")
    def _ports_parse(self) -> Self:
        for rule in self.rules:
            for port in rule.ports:
                try:
                    _port_range(port)
                except ValueError as exc:
                    raise ValueError(f"rule {rule.id}: {exc}") from None
        return self

    @property
    def zone_ids(self) -> tuple[str, ...]:
        ids = tuple(z.id for z in self.zones)
        return ids if self.outside_zone in ids else (*ids, self.outside_zone)


def parse_policy(data: object, *, source: str = "policy") -> Policy:
    """A policy from parsed YAML/JSON; errors name the place (`zones.2.cidrs.0`)."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        errors = [
            FieldError(tuple(e["loc"]), e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ]
        where = "; ".join(f"{'.'.join(map(str, e.loc)) or source}: {e.msg}" for e in errors)
        raise Invalid(f"{source} is not a valid segmentation policy: {where}", errors) from None


def load_policy(path: Path = DEFAULT_POLICY) -> Policy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise Invalid(f"{path}: not YAML: {exc}") from None
    return parse_policy(data, source=str(path))
