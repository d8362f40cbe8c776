"""Observables of a case (validated, normalised, STIX-typed) and related cases by shared ones."""

from __future__ import annotations

from civicshield.incidents.observables.store import (
    ObservableCreate,
    ObservableRead,
    RelatedCase,
    add_observable,
    from_alerts,
    list_observables,
    related_cases,
    remove_observable,
)
from civicshield.incidents.observables.values import OBSERVABLE_TYPES, STIX_TYPES, normalise

__all__ = [
    "OBSERVABLE_TYPES",
    "STIX_TYPES",
    "ObservableCreate",
    "ObservableRead",
    "RelatedCase",
    "add_observable",
    "from_alerts",
    "list_observables",
    "normalise",
    "related_cases",
    "remove_observable",
]
