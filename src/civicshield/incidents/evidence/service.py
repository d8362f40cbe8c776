"""Evidence of a case: upload (encrypted, SHA-256 fixed), list, verify, download, transfer.

Every step is a `CustodyEntry` (append-only); uploads, downloads and transfers are audited too.
A download verifies the whole blob first and refuses (409, the result kept) when it fails;
the bytes are then decrypted again as they are sent, so a file changed in between breaks the
stream instead of serving altered content.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Conflict, FieldError, Invalid, NotFound
from civicshield.core.settings import Settings
from civicshield.incidents.cases import Scope, load_case
from civicshield.incidents.evidence.integrity import binding, check_blob, record_check, store_dir
from civicshield.incidents.evidence.keys import load_keyring
from civicshield.incidents.evidence.schemas import (
    CustodyRead,
    CustodyTransfer,
    EvidenceRead,
    VerifyResult,
)
from civicshield.incidents.evidence.vault import decrypt_chunks, encrypt_stream
from civicshield.incidents.models import CustodyEntry, Evidence

__all__ = [
    "EvidenceTampered",
    "Opened",
    "add_evidence",
    "custody",
    "get_evidence",
    "list_evidence",
    "open_evidence",
    "transfer_custody",
    "verify_evidence",
]

_MEDIA = re.compile(r"^[\w.+-]+/[\w.+-]+$")


class EvidenceTampered(Conflict):
    """A piece failed verification; the failed check is still recorded."""

    keep_changes = True


def _clean_name(filename: str) -> str:
    """The base name only, without control characters; Invalid when nothing is left."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()[:300]
    if not name or name in (".", ".."):
        raise Invalid("the file needs a name", [FieldError(("body", "file"), "missing file name")])
    return name


def _custody(
    session: Session, ev: Evidence, action: str, detail: str, actor: str, clock: Clock
) -> None:
    session.add(
        CustodyEntry(evidence_id=ev.id, at=clock.now(), actor=actor, action=action, detail=detail)
    )


def custody(session: Session, evidence_id: int) -> list[CustodyRead]:
    rows = session.scalars(
        select(CustodyEntry)
        .where(CustodyEntry.evidence_id == evidence_id)
        .order_by(CustodyEntry.id)
    )
    return [CustodyRead.model_validate(r) for r in rows]


def _read(session: Session, ev: Evidence) -> EvidenceRead:
    log = custody(session, ev.id)
    checks = [c for c in log if c.action == "verify"]
    custodian = ev.uploaded_by
    for c in log:
        if c.action == "transfer":
            custodian = c.detail.split("\n", 1)[0].removeprefix("to ")
    integrity = "unchecked" if ev.intact is None else "intact" if ev.intact else "tampered"
    problem = checks[-1].detail if checks and ev.intact is False else ""
    return EvidenceRead(
        id=ev.id, case_id=ev.case_id, filename=ev.filename, media_type=ev.media_type,
        size=ev.size, sha256=ev.sha256, key_id=ev.key_id, description=ev.description,
        uploaded_at=ev.uploaded_at, uploaded_by=ev.uploaded_by,
        last_verified_at=ev.last_verified_at, integrity=integrity, problem=problem,
        custodian=custodian, custody=log,
    )  # fmt: skip


def _load(session: Session, case_id: int, evidence_id: int, scope: Scope) -> Evidence:
    load_case(session, case_id, scope)
    ev = session.get(Evidence, evidence_id)
    if ev is None or ev.case_id != case_id:
        raise NotFound(f"evidence {evidence_id} does not exist in case {case_id}")
    return ev


def add_evidence(
    session: Session,
    settings: Settings,
    case_id: int,
    src: BinaryIO,
    *,
    filename: str,
    description: str = "",
    media_type: str = "",
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> EvidenceRead:
    """Encrypt `src` into the store and record it; TooLarge over `evidence_max_bytes`."""
    case = load_case(session, case_id, scope)
    if len(description) > 5000:
        raise Invalid(
            "the description is too long",
            [FieldError(("body", "description"), "5,000 characters at most")],
        )
    ring = load_keyring(settings)
    media = media_type.strip().lower()[:200]
    ev = Evidence(
        case_id=case.id, filename=_clean_name(filename),
        media_type=media if _MEDIA.match(media) else "application/octet-stream",
        size=0, sha256="", blob=secrets.token_hex(16), key_id=ring.current,
        description=description.strip(), uploaded_at=clock.now(), uploaded_by=actor.label,
    )  # fmt: skip
    session.add(ev)
    session.flush()  # the id is part of what the blob is bound to
    sealed = encrypt_stream(
        src, store_dir(settings) / ev.blob, key=ring.keys[ring.current], binding=binding(ev),
        max_bytes=settings.evidence_max_bytes,
    )  # fmt: skip
    ev.size, ev.sha256 = sealed.size, sealed.sha256
    _custody(session, ev, "upload", f"SHA-256 {ev.sha256}, {ev.size} bytes", actor.label, clock)
    session.flush()
    audit.record(
        session, actor=actor, action="evidence.upload", entity_type="evidence", entity_id=ev.id,
        clock=clock, summary=f"case {case.id}: {ev.filename} ({ev.size} bytes, sha256 {ev.sha256})",
    )  # fmt: skip
    return _read(session, ev)


def list_evidence(session: Session, case_id: int, *, scope: Scope = None) -> list[EvidenceRead]:
    load_case(session, case_id, scope)
    rows = session.scalars(
        select(Evidence).where(Evidence.case_id == case_id).order_by(Evidence.id)
    )
    return [_read(session, ev) for ev in rows]


def get_evidence(
    session: Session, case_id: int, evidence_id: int, *, scope: Scope = None
) -> EvidenceRead:
    return _read(session, _load(session, case_id, evidence_id, scope))


def verify_evidence(
    session: Session,
    settings: Settings,
    case_id: int,
    evidence_id: int | None = None,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> list[VerifyResult]:
    """Check one piece, or every piece of the case; each result kept (intact, custody)."""
    load_case(session, case_id, scope)
    if evidence_id is not None:
        pieces = [_load(session, case_id, evidence_id, scope)]
    else:
        pieces = list(session.scalars(select(Evidence).where(Evidence.case_id == case_id)))
    ring = load_keyring(settings)
    return [
        record_check(session, ev, check_blob(settings, ring, ev), actor=actor.label, clock=clock)
        for ev in sorted(pieces, key=lambda e: e.id)
    ]


@dataclass(frozen=True)
class Opened:
    """A verified piece ready to stream: `chunks()` decrypts it again as it is read."""

    filename: str
    size: int
    sha256: str
    chunks: Callable[[], Iterator[bytes]]


def open_evidence(
    session: Session,
    settings: Settings,
    case_id: int,
    evidence_id: int,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> Opened:
    """Verify, then hand out the plaintext stream; EvidenceTampered (409) when it fails."""
    ev = _load(session, case_id, evidence_id, scope)
    ring = load_keyring(settings)
    problem = check_blob(settings, ring, ev)
    if problem:
        record_check(session, ev, problem, actor=actor.label, clock=clock)
        raise EvidenceTampered(
            f"evidence {ev.id} ({ev.filename}) failed verification and is not served: {problem}"
        )
    _custody(session, ev, "download", "verified before serving", actor.label, clock)
    session.flush()
    audit.record(
        session, actor=actor, action="evidence.download", entity_type="evidence",
        entity_id=ev.id, clock=clock, summary=f"case {case_id}: {ev.filename} downloaded",
    )  # fmt: skip
    path, key, bound = store_dir(settings) / ev.blob, ring.keys[ev.key_id], binding(ev)
    return Opened(
        filename=ev.filename, size=ev.size, sha256=ev.sha256,
        chunks=lambda: decrypt_chunks(path, key=key, binding=bound),
    )  # fmt: skip


def transfer_custody(
    session: Session,
    case_id: int,
    evidence_id: int,
    data: CustodyTransfer,
    *,
    actor: Actor,
    clock: Clock,
    scope: Scope = None,
) -> EvidenceRead:
    ev = _load(session, case_id, evidence_id, scope)
    to = " ".join(data.to.split())
    if not to:
        raise Invalid("name the person taking custody", [FieldError(("body", "to"), "required")])
    note = data.note.strip()
    _custody(
        session, ev, "transfer", f"to {to}" + (f"\n{note}" if note else ""), actor.label, clock
    )
    session.flush()
    audit.record(
        session, actor=actor, action="evidence.transfer", entity_type="evidence",
        entity_id=ev.id, clock=clock, summary=f"case {case_id}: custody of {ev.filename} to {to}",
    )  # fmt: skip
    return _read(session, ev)
