"""The sharing policy applied to a set of STIX objects before they leave (pure). Each object
is refused (with the reason and rule) or copied and cleaned; every change is listed (object
id, property, action, rule). The result is a STIX 2.1 bundle with the TLP 2.0 marking
definitions its objects use."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import stix2
from stix2.exceptions import STIXError

from civicshield.core.enums import Tlp
from civicshield.intel.sharing.policy import Network, SharingPolicy
from civicshield.intel.sharing.redact import (
    REMOVED,
    redact_personal,
    replace_addresses,
)
from civicshield.intel.tlp import TLP_ORDER, marking_definition, marking_id, tlp_of_refs

__all__ = ["Change", "Prepared", "Refused", "Target", "apply_policy"]

_TLP2_IDS = {marking_id(level): level for level in TLP_ORDER}
# Properties that hold ids, types and timestamps: never text to clean.
_STRUCTURAL = re.compile(
    r"^(id|type|spec_version|created|modified|valid_from|valid_until|first_seen|last_seen|"
    r"first_observed|last_observed|published|pattern_type|pattern_version|.*_refs?)$"
)
_EMAIL_IN_PATTERN = re.compile(r"'([^'@\s]+@([^'\s]+))'")


@dataclass(frozen=True)
class Target:
    """Where a publication goes: `multi_city` (several cities read it), the collection's TLP
    ceiling when it has one."""

    multi_city: bool
    tlp: Tlp | None = None


@dataclass(frozen=True)
class Change:
    object_id: str
    property: str
    action: str  # marked | removed | pseudonymised | redacted
    rule: str
    detail: str = ""


@dataclass(frozen=True)
class Refused:
    object_id: str
    type: str
    reason: str
    rule: str


@dataclass
class Prepared:
    objects: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refused] = field(default_factory=list)

    def bundle(self) -> dict[str, Any]:
        return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": self.objects}

    def as_lists(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return [asdict(c) for c in self.changes], [asdict(r) for r in self.refusals]


class _Cleaner:
    def __init__(
        self, policy: SharingPolicy, pseudonym: Callable[[str], str], changes: list[Change]
    ) -> None:
        self.policy = policy
        self.internal: Sequence[Network] = policy.networks()
        self.remove = policy.internal_action == "remove"
        self.pseudonym = pseudonym
        self.changes = changes

    def _address(self, address: str) -> str:
        return REMOVED if self.remove else self.pseudonym(address)

    def text(self, obj_id: str, prop: str, value: str, *, personal: bool) -> str:
        new, count = replace_addresses(value, self.internal, self._address)
        if count:
            action = "removed" if self.remove else "pseudonymised"
            self.changes.append(Change(obj_id, prop, action, "internal-address", f"{count}x"))
        if personal:
            new, rules = redact_personal(new, self.policy)
            self.changes.extend(Change(obj_id, prop, "redacted", rule) for rule in rules)
        return new

    def pattern(self, obj_id: str, pattern: str) -> str | None:
        """The pattern with internal addresses and own e-mail addresses pseudonymised, or None
        when the policy removes internal addresses (a pattern cannot lose a comparison)."""
        new, count = replace_addresses(pattern, self.internal, self.pseudonym)
        domains = self.policy.own_email_domains

        def own(match: re.Match[str]) -> str:
            nonlocal count
            if match.group(2).lower() not in domains:
                return match.group(0)
            count += 1
            return f"'{self.pseudonym(match.group(1))}'"

        new = _EMAIL_IN_PATTERN.sub(own, new)
        if count and self.remove:
            return None
        if count:
            self.changes.append(
                Change(obj_id, "pattern", "pseudonymised", "internal-address", f"{count}x")
            )
        return new

    def walk(self, obj_id: str, path: str, value: Any, *, personal: bool) -> Any:
        if isinstance(value, str):
            return self.text(obj_id, path, value, personal=personal)
        if isinstance(value, list):
            return [
                self.walk(obj_id, f"{path}[{i}]", v, personal=personal) for i, v in enumerate(value)
            ]
        if isinstance(value, dict):
            return {
                k: v
                if _STRUCTURAL.match(k)
                else self.walk(obj_id, f"{path}.{k}", v, personal=personal)
                for k, v in value.items()
            }
        return value


def _refusal(obj: dict[str, Any], policy: SharingPolicy, internal: Sequence[Network]) -> str | None:
    kind = obj.get("type", "")
    if kind in policy.never_share_types:
        return f"{kind} objects are never shared"
    if kind == "identity" and obj.get("identity_class") in policy.never_share_identity_classes:
        return f"identity of class {obj.get('identity_class')!r} (a person) is never shared"
    if kind == "email-addr":
        domain = str(obj.get("value", "")).rpartition("@")[2].lower()
        if domain in policy.own_email_domains:
            return f"e-mail address in the city's own domain {domain!r} is never shared"
    if kind in ("ipv4-addr", "ipv6-addr"):
        _, count = replace_addresses(str(obj.get("value", "")), internal, lambda a: a)
        if count:
            return (
                "an internal address as an observable is never shared (a pseudonym is not "
                "a valid address)"
            )
    return None


def _tlp_refusal(tlp: Tlp, policy: SharingPolicy, target: Target) -> tuple[str, str] | None:
    if target.multi_city and tlp in policy.refuse_multi_city_tlp:
        return (
            f"{tlp.label} may not go to a collection several cities read: TLP 2.0 limits it "
            "to the recipient organisation (AMBER+STRICT) or named people (RED)",
            "tlp-multi-city",
        )
    if target.tlp is not None and TLP_ORDER.index(tlp) > TLP_ORDER.index(target.tlp):
        return (
            f"{tlp.label} is stricter than the collection's {target.tlp.label}",
            "tlp-collection",
        )
    return None


def _clean(obj: dict[str, Any], cleaner: _Cleaner, default_tlp: Tlp) -> dict[str, Any] | str:
    obj_id, policy = str(obj.get("id", "")), cleaner.policy
    out = copy.deepcopy(obj)
    for key in [k for k in out if k.startswith(policy.strip_property_prefixes)]:
        del out[key]
        cleaner.changes.append(Change(obj_id, key, "removed", "internal-property"))
    if (
        out.get("type") != "marking-definition"
        and tlp_of_refs(out.get("object_marking_refs", [])) is None
    ):
        out["object_marking_refs"] = [*out.get("object_marking_refs", []), marking_id(default_tlp)]
        cleaner.changes.append(
            Change(obj_id, "object_marking_refs", "marked", "tlp-default", default_tlp.label)
        )
    if isinstance(out.get("pattern"), str) and out.get("pattern_type") == "stix":
        pattern = cleaner.pattern(obj_id, out["pattern"])
        if pattern is None:
            return "its pattern holds an internal address and the policy removes them"
        out["pattern"] = pattern
    for key, value in list(out.items()):
        if _STRUCTURAL.match(key) or key in ("pattern", "granular_markings"):
            continue
        personal = key in policy.text_properties or key.startswith("x_")
        out[key] = cleaner.walk(obj_id, key, value, personal=personal)
    return out


def _invalid(obj: dict[str, Any]) -> str | None:
    try:
        stix2.parse(obj, allow_custom=True, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"not valid STIX 2.1 after the policy: {first}"
    return None


def apply_policy(
    objects: Sequence[dict[str, Any]],
    policy: SharingPolicy,
    target: Target,
    *,
    default_tlp: Tlp,
    pseudonym: Callable[[str], str],
) -> Prepared:
    """Run the policy over `objects` (STIX JSON, not modified) for `target`."""
    result = Prepared()
    cleaner = _Cleaner(policy, pseudonym, result.changes)
    used: set[Tlp] = set()
    for obj in objects:
        obj_id, kind = str(obj.get("id", "")), str(obj.get("type", ""))
        if kind == "marking-definition" and obj_id in _TLP2_IDS:
            continue  # added below, once, for the levels in use
        tlp = tlp_of_refs(obj.get("object_marking_refs", [])) or default_tlp
        refused = _tlp_refusal(tlp, policy, target)
        reason = _refusal(obj, policy, cleaner.internal)
        if refused is None and reason is not None:
            refused = (reason, "never-shared")
        before = len(result.changes)
        cleaned = _clean(obj, cleaner, default_tlp) if refused is None else None
        if isinstance(cleaned, str):
            refused = (cleaned, "internal-address")
        elif cleaned is not None:
            problem = _invalid(cleaned)
            refused = (problem, "stix-valid") if problem else None
        if refused is not None or cleaned is None or isinstance(cleaned, str):
            del result.changes[before:]  # nothing of a refused object leaves: no changes to list
            reason, rule = refused or ("", "")
            result.refusals.append(Refused(obj_id, kind, reason, rule))
            continue
        used.add(tlp)
        result.objects.append(cleaned)
    result.objects.extend(marking_definition(level) for level in TLP_ORDER if level in used)
    return result
