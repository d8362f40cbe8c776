"""Threat intelligence: STIX 2.1 objects stored by version, imports (STIX bundles, MISP feeds
and events, CSV and plain lists), MISP warninglists, indicator ageing, STIX export, and the
indicator index continuous detection matches with."""

from civicshield.intel.ageing import DEFAULT_DECAY_DAYS, decay_days_for
from civicshield.intel.csv_list import VALUE_TYPES
from civicshield.intel.export import export_bundle
from civicshield.intel.feeds import is_url
from civicshield.intel.imports import import_csv, import_misp_event, import_misp_feed, import_stix
from civicshield.intel.matching import INTEL_AUTHOR, alert_level, indicator_matches
from civicshield.intel.misp import MISP_TYPES
from civicshield.intel.report import ImportReport, Refusal
from civicshield.intel.schemas import (
    INDICATOR_STATES,
    IndicatorDetail,
    IndicatorFilter,
    IndicatorPage,
    IndicatorRead,
    IndicatorSighting,
    ProvenanceRead,
    SourceRead,
    VersionRead,
    WarninglistRead,
)
from civicshield.intel.service import (
    apply_ageing,
    get_indicator,
    indicator_index,
    list_indicators,
    list_sources,
    list_warninglists,
)
from civicshield.intel.sightings import (
    indicator_sightings,
    our_sightings_since,
    record_sightings,
    sighted_since,
)
from civicshield.intel.warninglists_store import load_warninglists

__all__ = [
    "DEFAULT_DECAY_DAYS",
    "INDICATOR_STATES",
    "INTEL_AUTHOR",
    "MISP_TYPES",
    "VALUE_TYPES",
    "ImportReport",
    "IndicatorDetail",
    "IndicatorFilter",
    "IndicatorPage",
    "IndicatorRead",
    "IndicatorSighting",
    "ProvenanceRead",
    "Refusal",
    "SourceRead",
    "VersionRead",
    "WarninglistRead",
    "alert_level",
    "apply_ageing",
    "decay_days_for",
    "export_bundle",
    "get_indicator",
    "import_csv",
    "import_misp_event",
    "import_misp_feed",
    "import_stix",
    "indicator_index",
    "indicator_matches",
    "indicator_sightings",
    "is_url",
    "list_indicators",
    "list_sources",
    "list_warninglists",
    "load_warninglists",
    "our_sightings_since",
    "record_sightings",
    "sighted_since",
]
