"""TLP markings: the TLP 2.0 marking definitions (OASIS cti-stix-common-objects, tlp-2.0
extension `extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`) and the TLP 1.0 ones
that `stix2` ships, mapped to our `Tlp` levels. The most restrictive marking wins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from civicshield.core.enums import Tlp

__all__ = [
    "TLP2_EXTENSION",
    "TLP_ORDER",
    "marking_definition",
    "marking_id",
    "strictest",
    "tlp_of_refs",
]

TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
_TLP2 = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 (STIX 2.1 spec §7.2.1.4; the constants of `stix2`): WHITE reads as CLEAR.
_TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
_BY_ID = {ref: level for level, ref in _TLP2.items()} | _TLP1
TLP_ORDER = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED)


def marking_id(level: Tlp) -> str:
    """The TLP 2.0 marking-definition id for `level`."""
    return _TLP2[level]


def marking_definition(level: Tlp) -> dict[str, Any]:
    """The official TLP 2.0 marking-definition object for `level`, as STIX JSON."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _TLP2[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.label,
        "extensions": {
            TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level.value}
        },
    }


def strictest(levels: Iterable[Tlp]) -> Tlp | None:
    found = list(levels)
    return max(found, key=TLP_ORDER.index) if found else None


def tlp_of_refs(refs: Iterable[str]) -> Tlp | None:
    """The TLP of an object from its `object_marking_refs` (None when it carries no TLP)."""
    return strictest(_BY_ID[ref] for ref in refs if ref in _BY_ID)
