"""TLP-safe publishing: the sharing policy (shipped default plus `<data_dir>/sharing.yaml`),
the preview it produces (every change and refusal listed), and the publish queue with its
human approval step for the first publication to a new peer."""

from typing import Any

from civicshield.intel.sharing.policy import OVERRIDE_FILE, SharingPolicy, load_policy
from civicshield.intel.sharing.queue import (
    Delivery,
    approve,
    get_publication,
    list_publications,
    prepare,
    publish,
    reject,
)
from civicshield.intel.sharing.redact import Pseudonymiser, pseudonym_key
from civicshield.intel.sharing.rules import Change, Prepared, Refused, Target, apply_policy
from civicshield.intel.sharing.schemas import (
    STATUSES,
    ChangeRead,
    PublicationRead,
    PublicationTarget,
    RefusedRead,
)

__all__ = [
    "JOBS",
    "OVERRIDE_FILE",
    "STATUSES",
    "Change",
    "ChangeRead",
    "Delivery",
    "Prepared",
    "Pseudonymiser",
    "PublicationRead",
    "PublicationTarget",
    "Refused",
    "RefusedRead",
    "SharingPolicy",
    "Target",
    "apply_policy",
    "approve",
    "get_publication",
    "list_publications",
    "load_policy",
    "prepare",
    "pseudonym_key",
    "publish",
    "reject",
]

# No background jobs: publications leave when a person sends them.
JOBS: list[Any] = []
