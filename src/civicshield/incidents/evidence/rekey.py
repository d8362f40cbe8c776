"""Key rotation: re-encrypt every blob under a new key, crash-safe.

Order: (1) the new key becomes current in the key file (the old keys stay); (2) each piece is
decrypted and re-encrypted into a NEW blob file, its SHA-256 checked, then the record points at
it (one commit per piece) and only then the old file is deleted; (3) keys no record uses any
more are dropped from the key file. A crash at any point leaves every record readable: at worst
an orphan blob file. A tampered piece is reported and left alone under its old key, which is
therefore kept. With `CIVICSHIELD_EVIDENCE_KEY` the new key must be given (`new_key`) and the
setting changed afterwards: nothing about keys is written to disk in that mode.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicshield import audit
from civicshield.core.actor import Actor
from civicshield.core.clock import Clock
from civicshield.core.errors import Invalid, TooLarge
from civicshield.core.settings import Settings
from civicshield.incidents.evidence.integrity import binding, check_blob, record_check, store_dir
from civicshield.incidents.evidence.keys import (
    KEY_FILE,
    KeyRing,
    key_id,
    load_keyring,
    new_key,
    write_key_file,
)
from civicshield.incidents.evidence.schemas import RekeyReport, VerifyResult
from civicshield.incidents.evidence.vault import Tampered, decrypt_chunks, encrypt_stream
from civicshield.incidents.models import CustodyEntry, Evidence

__all__ = ["rekey_evidence"]

UnitOfWork = Callable[[], AbstractContextManager[Session]]


class _Plain:
    """A readable stream over the decrypted chunks (fed to `encrypt_stream`)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._it = chunks
        self._buf = b""
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            piece = next(self._it, None)
            if piece is None:
                break
            self.digest.update(piece)
            self._buf += piece
        out, self._buf = (self._buf, b"") if n < 0 else (self._buf[:n], self._buf[n:])
        return out


def _start(settings: Settings, given: bytes | None) -> tuple[KeyRing, bytes]:
    ring = load_keyring(settings)
    if ring.from_setting:
        if given is None:
            raise Invalid(
                "the evidence key comes from CIVICSHIELD_EVIDENCE_KEY: give the new key "
                "(--new-key), then set CIVICSHIELD_EVIDENCE_KEY to it when the rekey is done"
            )
        return ring, given
    key = given or new_key()
    keys = {**ring.keys, key_id(key): key}
    write_key_file(settings.data_dir / KEY_FILE, key_id(key), keys)  # old keys kept
    return KeyRing(key_id(key), keys), key


def _one(
    session: Session, settings: Settings, ring: KeyRing, ev: Evidence, key: bytes,
    actor: Actor, clock: Clock,
) -> tuple[str, str]:  # fmt: skip
    """Re-encrypt one piece: ("", old blob) when done, (problem, "") when left alone."""
    problem = check_blob(settings, ring, ev)
    if problem:
        return problem, ""
    old = ev.blob
    source = _Plain(
        decrypt_chunks(store_dir(settings) / old, key=ring.keys[ev.key_id], binding=binding(ev))
    )
    ev.blob = secrets.token_hex(16)
    try:
        sealed = encrypt_stream(
            source, store_dir(settings) / ev.blob, key=key, binding=binding(ev),
            max_bytes=ev.size,
        )  # fmt: skip
    except (Tampered, TooLarge) as exc:  # changed between the check and the copy
        ev.blob = old
        return getattr(exc, "reason", None) or str(exc), ""
    if sealed.sha256 != ev.sha256:
        (store_dir(settings) / ev.blob).unlink(missing_ok=True)
        ev.blob = old
        return f"SHA-256 mismatch while re-encrypting: {sealed.sha256}", ""
    before, ev.key_id = ev.key_id, key_id(key)
    session.add(
        CustodyEntry(
            evidence_id=ev.id, at=clock.now(), actor=actor.label, action="rekey",
            detail=f"re-encrypted from key {before} to {ev.key_id}; SHA-256 {ev.sha256} checked",
        )
    )  # fmt: skip
    audit.record(
        session, actor=actor, action="evidence.rekey", entity_type="evidence", entity_id=ev.id,
        clock=clock, summary=f"evidence {ev.id} re-encrypted under key {ev.key_id}",
    )  # fmt: skip
    return "", old


def rekey_evidence(
    unit_of_work: UnitOfWork,
    settings: Settings,
    *,
    actor: Actor,
    clock: Clock,
    new: bytes | None = None,
) -> RekeyReport:
    """Re-encrypt every piece under a new key (see the module docstring)."""
    ring, key = _start(settings, new)
    kid = key_id(key)
    ring = KeyRing(kid, {**ring.keys, kid: key}, ring.from_setting)
    with unit_of_work() as session:
        ids = list(session.scalars(select(Evidence.id).order_by(Evidence.id)))
    rekeyed, already, tampered = [], [], []
    for eid in ids:
        with unit_of_work() as session:
            ev = session.get(Evidence, eid)
            if ev is None:
                continue
            if ev.key_id == kid:
                already.append(eid)
                continue
            problem, old = _one(session, settings, ring, ev, key, actor, clock)
            if problem:
                tampered.append(record_check(session, ev, problem, actor=actor.label, clock=clock))
            else:
                rekeyed.append(eid)
        if old:  # committed: the old file is no longer referenced
            (store_dir(settings) / old).unlink(missing_ok=True)
    dropped: list[str] = []
    kept = sorted(ring.keys)
    if not ring.from_setting:
        with unit_of_work() as session:
            used = set(session.scalars(select(Evidence.key_id).distinct())) | {kid}
        dropped = sorted(set(ring.keys) - used)
        kept = sorted(used & set(ring.keys))
        write_key_file(settings.data_dir / KEY_FILE, kid, {k: ring.keys[k] for k in kept})
    return RekeyReport(
        new_key_id=kid, rekeyed=rekeyed, already=already,
        tampered=[VerifyResult.model_validate(t.model_dump()) for t in tampered],
        dropped_keys=dropped, kept_keys=kept,
    )  # fmt: skip
