"""Threat-intelligence indicator matching (pure: Polars, no database): STIX 2.1 patterns compiled
once into typed lookups (`compile_pattern`, refusing with the reason what it cannot compile) and
matched over event frames with joins (`IndicatorIndex`). The indicator store, TAXII and MISP
come with the intel domain (issue 8)."""

from civicshield.detect.indicators.index import FIELDS, IndicatorIndex
from civicshield.detect.indicators.pattern import KINDS, Lookup, PatternError, compile_pattern

__all__ = ["FIELDS", "KINDS", "IndicatorIndex", "Lookup", "PatternError", "compile_pattern"]
