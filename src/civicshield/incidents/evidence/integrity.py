"""Checking a blob: decrypt it whole and compare its size and SHA-256 with the record; the
result is kept on the record and in the chain of custody."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from civicshield.core.clock import Clock
from civicshield.core.settings import Settings
from civicshield.incidents.evidence.keys import KeyRing
from civicshield.incidents.evidence.schemas import VerifyResult
from civicshield.incidents.evidence.vault import Tampered, decrypt_chunks
from civicshield.incidents.models import CustodyEntry, Evidence

__all__ = ["binding", "check_blob", "record_check", "store_dir"]


def store_dir(settings: Settings) -> Path:
    path = settings.data_dir / "evidence"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def binding(ev: Evidence) -> bytes:
    """What each chunk's tag is bound to: the case, the record and the blob's name."""
    return f"case={ev.case_id};evidence={ev.id};blob={ev.blob}".encode()


def check_blob(settings: Settings, ring: KeyRing, ev: Evidence, key_id: str | None = None) -> str:
    """Decrypt the whole blob and compare size and SHA-256: "" when intact, else why not."""
    key = ring.key(key_id or ev.key_id)
    if key is None:
        return f"its key {ev.key_id} is not available (not in the key file or setting)"
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in decrypt_chunks(store_dir(settings) / ev.blob, key=key, binding=binding(ev)):
            digest.update(chunk)
            size += len(chunk)
    except Tampered as exc:
        return exc.reason
    if digest.hexdigest() != ev.sha256 or size != ev.size:
        return f"SHA-256 mismatch: recorded {ev.sha256}, the stored file gives {digest.hexdigest()}"
    return ""


def record_check(
    session: Session, ev: Evidence, problem: str, *, actor: str, clock: Clock
) -> VerifyResult:
    ev.intact, ev.last_verified_at = not problem, clock.now()
    detail = problem or f"intact: SHA-256 {ev.sha256} matches"
    session.add(
        CustodyEntry(evidence_id=ev.id, at=clock.now(), actor=actor, action="verify", detail=detail)
    )
    session.flush()
    return VerifyResult(
        evidence_id=ev.id, case_id=ev.case_id, filename=ev.filename, intact=not problem,
        problem=problem,
    )  # fmt: skip
