"""Case evidence: files encrypted at rest (chunked AES-256-GCM, keys outside the database),
SHA-256 fixed at upload, an append-only chain of custody, verification that shows tampering,
and key rotation that re-encrypts. See docs/incident-evidence.md."""

from civicshield.incidents.evidence.download import download_headers
from civicshield.incidents.evidence.jobs import JOBS, VERIFY_JOB
from civicshield.incidents.evidence.keys import (
    KEY_FILE,
    KeyRing,
    decode_key,
    ensure_key_file,
    key_id,
    load_keyring,
)
from civicshield.incidents.evidence.rekey import rekey_evidence
from civicshield.incidents.evidence.schemas import (
    CustodyRead,
    CustodyTransfer,
    EvidenceRead,
    Integrity,
    RekeyReport,
    VerifyResult,
)
from civicshield.incidents.evidence.service import (
    EvidenceTampered,
    Opened,
    add_evidence,
    get_evidence,
    list_evidence,
    open_evidence,
    transfer_custody,
    verify_evidence,
)

__all__ = [
    "JOBS",
    "KEY_FILE",
    "VERIFY_JOB",
    "CustodyRead",
    "CustodyTransfer",
    "EvidenceRead",
    "EvidenceTampered",
    "Integrity",
    "KeyRing",
    "Opened",
    "RekeyReport",
    "VerifyResult",
    "add_evidence",
    "decode_key",
    "download_headers",
    "ensure_key_file",
    "get_evidence",
    "key_id",
    "list_evidence",
    "load_keyring",
    "open_evidence",
    "rekey_evidence",
    "transfer_custody",
    "verify_evidence",
]
