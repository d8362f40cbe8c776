"""Append-only, hash-chained audit log of every change to security records."""

from civicshield.audit.schemas import AuditEntryRead, AuditPage, ChainReport
from civicshield.audit.service import GENESIS, entry_hash, list_entries, record, verify_chain

__all__ = [
    "GENESIS",
    "AuditEntryRead",
    "AuditPage",
    "ChainReport",
    "entry_hash",
    "list_entries",
    "record",
    "verify_chain",
]
