"""Network segmentation policy (pure: Polars and `ipaddress`, no database): zones by CIDR, an
ordered allowed-flow policy, validation (`check_policy`: overlapping zones, shadowed rules) and
evaluation over flow frames as joins (`Evaluator`). The default city policy ships as data."""

from civicshield.detect.segmentation.alerts import (
    FLOW_DATASETS,
    POLICY_FILE,
    WINDOW_SECONDS,
    city_policy,
    violation_matches,
)
from civicshield.detect.segmentation.check import Issue, check_policy
from civicshield.detect.segmentation.evaluate import VERDICT_COLUMNS, Evaluator
from civicshield.detect.segmentation.policy import (
    DEFAULT_POLICY,
    FlowRule,
    Policy,
    Zone,
    load_policy,
    parse_policy,
)
from civicshield.detect.segmentation.zones import ZoneMap

__all__ = [
    "DEFAULT_POLICY",
    "FLOW_DATASETS",
    "POLICY_FILE",
    "VERDICT_COLUMNS",
    "WINDOW_SECONDS",
    "Evaluator",
    "FlowRule",
    "Issue",
    "Policy",
    "Zone",
    "ZoneMap",
    "check_policy",
    "city_policy",
    "load_policy",
    "parse_policy",
    "violation_matches",
]
