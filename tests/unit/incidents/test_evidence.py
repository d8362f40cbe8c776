"""Evidence with the store: upload (SHA-256 fixed, blob encrypted, custody and audit), tamper
detection recorded and shown, refused downloads, transfers, scope, the daily job, rekeying and
the key never reaching the database."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from civicshield import audit
from civicshield.core import Sector
from civicshield.core.actor import Actor
from civicshield.core.clock import FrozenClock
from civicshield.core.errors import Invalid, NotFound, TooLarge
from civicshield.incidents.cases import create_case
from civicshield.incidents.evidence import (
    JOBS,
    CustodyTransfer,
    EvidenceTampered,
    add_evidence,
    get_evidence,
    list_evidence,
    load_keyring,
    open_evidence,
    rekey_evidence,
    transfer_custody,
    verify_evidence,
)
from civicshield.incidents.evidence.jobs import _verify
from civicshield.incidents.models import Evidence
from civicshield.incidents.schemas import CaseCreate
from civicshield.jobs import JobContext
from civicshield.runtime import Runtime

ANA = Actor(kind="user", name="ana")
DATA = b"MZ\x90\x00 ransom note and a memory dump " * 50_000  # ~1.7 MiB: two chunks


def new_case(runtime: Runtime, clock: FrozenClock, sector: str = "water") -> int:
    with runtime.session() as s:
        return create_case(
            s, CaseCreate(title="Ransomware", sectors=[sector]), actor=ANA, clock=clock
        ).id


def upload(runtime: Runtime, clock: FrozenClock, case_id: int, data: bytes = DATA) -> int:
    with runtime.session() as s:
        return add_evidence(
            s, runtime.settings, case_id, io.BytesIO(data), filename="C:\\dump\\mem.bin",
            description="memory of FS-01", media_type="application/x-dump", actor=ANA, clock=clock,
        ).id  # fmt: skip


def blob_of(runtime: Runtime, eid: int) -> Path:
    with runtime.session() as s:
        ev = s.get(Evidence, eid)
        assert ev is not None
        return runtime.settings.data_dir / "evidence" / ev.blob


def test_upload_records_sha256_custody_and_audit(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = new_case(runtime, clock)
    eid = upload(runtime, clock, case_id)
    with runtime.session() as s:
        ev = get_evidence(s, case_id, eid)
        entries = audit.list_entries(s, entity_type="evidence").items
    assert ev.sha256 == hashlib.sha256(DATA).hexdigest() and ev.size == len(DATA)
    assert ev.filename == "mem.bin" and ev.integrity == "unchecked" and ev.custodian == "ana"
    assert [c.action for c in ev.custody] == ["upload"] and ev.sha256 in ev.custody[0].detail
    assert [e.action for e in entries] == ["evidence.upload"]
    assert DATA[:64] not in blob_of(runtime, eid).read_bytes()
    with runtime.session() as s:
        opened = open_evidence(s, runtime.settings, case_id, eid, actor=ANA, clock=clock)
    assert b"".join(opened.chunks()) == DATA
    with runtime.session() as s:
        assert [c.action for c in get_evidence(s, case_id, eid).custody] == ["upload", "download"]


@pytest.mark.parametrize("how", ["flip", "truncate", "delete", "swap"])
def test_tampering_is_detected_recorded_and_blocks_download(
    runtime: Runtime, clock: FrozenClock, how: str
) -> None:
    case_id = new_case(runtime, clock)
    eid, other = upload(runtime, clock, case_id), upload(runtime, clock, case_id, b"other file")
    path = blob_of(runtime, eid)
    if how == "flip":
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0x40
        path.write_bytes(bytes(raw))
    elif how == "truncate":
        path.write_bytes(path.read_bytes()[:-100])
    elif how == "delete":
        path.unlink()
    else:
        path.write_bytes(blob_of(runtime, other).read_bytes())
    with runtime.session() as s:
        results = verify_evidence(s, runtime.settings, case_id, actor=ANA, clock=clock)
    assert [(r.evidence_id, r.intact) for r in results] == [(eid, False), (other, True)]
    reason = "missing" if how == "delete" else "authentication failed"
    assert reason in results[0].problem
    with runtime.session() as s:
        ev = get_evidence(s, case_id, eid)
    assert (
        ev.integrity == "tampered" and reason in ev.problem and ev.last_verified_at == clock.now()
    )
    with pytest.raises(EvidenceTampered, match="not served"), runtime.session() as s:
        open_evidence(s, runtime.settings, case_id, eid, actor=ANA, clock=clock)
    with runtime.session() as s:  # the refused download's check was kept, no download logged
        actions = [c.action for c in get_evidence(s, case_id, eid).custody]
    assert actions == ["upload", "verify", "verify"]


def test_transfer_scope_limits_and_bad_input(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = new_case(runtime, clock)
    eid = upload(runtime, clock, case_id, b"x")
    with runtime.session() as s:
        ev = transfer_custody(
            s, case_id, eid, CustodyTransfer(to="Det. Roy", note="sealed bag 7"), actor=ANA,
            clock=clock,
        )  # fmt: skip
    assert ev.custodian == "Det. Roy" and ev.custody[-1].detail == "to Det. Roy\nsealed bag 7"
    transit = frozenset({Sector.TRANSPORT})
    with pytest.raises(NotFound), runtime.session() as s:
        list_evidence(s, case_id, scope=transit)
    with pytest.raises(NotFound), runtime.session() as s:
        get_evidence(s, new_case(runtime, clock), eid)  # not in that case
    small = runtime.settings.model_copy(update={"evidence_max_bytes": 4096})
    big = io.BytesIO(b"x" * 4097)
    with pytest.raises(TooLarge, match="limit of 4096 bytes"), runtime.session() as s:
        add_evidence(s, small, case_id, big, filename="big", actor=ANA, clock=clock)
    with pytest.raises(Invalid) as err, runtime.session() as s:
        add_evidence(s, runtime.settings, case_id, io.BytesIO(b""), filename="/", actor=ANA,
                     clock=clock)  # fmt: skip
    assert err.value.errors[0].loc == ("body", "file")
    with runtime.session() as s:
        assert len(list_evidence(s, case_id)) == 1


def test_daily_job_verifies_every_piece(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = new_case(runtime, clock)
    good, bad = upload(runtime, clock, case_id, b"a"), upload(runtime, clock, case_id, b"b")
    blob_of(runtime, bad).unlink()
    (job,) = JOBS
    assert job.name == "incidents.evidence_verify" and job.every_seconds == 86_400

    class Log:
        def info(self, m: str) -> None: ...
        def warning(self, m: str) -> None: ...
        def error(self, m: str) -> None: ...

    with runtime.session() as s:
        out = _verify(JobContext(s, {}, Log(), clock, runtime.services))
    assert out == {"checked": 2, "tampered": [bad]}
    with runtime.session() as s:
        assert [e.integrity for e in list_evidence(s, case_id)] == ["intact", "tampered"]
        assert good


def test_rekey_reencrypts_drops_old_key_and_leaves_tampered_alone(
    runtime: Runtime, clock: FrozenClock
) -> None:
    case_id = new_case(runtime, clock)
    eid, bad = upload(runtime, clock, case_id), upload(runtime, clock, case_id, b"bad")
    old_key = load_keyring(runtime.settings).current
    old_blob, old_bytes = blob_of(runtime, eid), blob_of(runtime, eid).read_bytes()
    raw = bytearray(blob_of(runtime, bad).read_bytes())
    raw[-1] ^= 1
    blob_of(runtime, bad).write_bytes(bytes(raw))
    report = rekey_evidence(runtime.session, runtime.settings, actor=ANA, clock=clock)
    assert report.rekeyed == [eid] and [t.evidence_id for t in report.tampered] == [bad]
    assert report.kept_keys == sorted({old_key, report.new_key_id})  # old key still needed
    new_blob = blob_of(runtime, eid)
    assert not old_blob.exists() and new_blob.read_bytes() != old_bytes
    with runtime.session() as s:
        opened = open_evidence(s, runtime.settings, case_id, eid, actor=ANA, clock=clock)
        assert get_evidence(s, case_id, eid).key_id == report.new_key_id
    assert b"".join(opened.chunks()) == DATA
    blob_of(runtime, bad).write_bytes(bytes(raw[:-1]) + bytes([raw[-1] ^ 1]))  # repaired
    again = rekey_evidence(runtime.session, runtime.settings, actor=ANA, clock=clock)
    assert again.rekeyed == [eid, bad] and old_key in again.dropped_keys
    doc = json.loads((runtime.settings.data_dir / "evidence.key").read_text())
    assert set(doc["keys"]) == {again.new_key_id} and doc["current"] == again.new_key_id
    with runtime.session() as s:
        actions = [c.action for c in get_evidence(s, case_id, eid).custody]
    assert actions.count("rekey") == 2


def test_the_key_never_reaches_the_database(runtime: Runtime, clock: FrozenClock) -> None:
    case_id = new_case(runtime, clock)
    upload(runtime, clock, case_id)
    rekey_evidence(runtime.session, runtime.settings, actor=ANA, clock=clock)
    ring = load_keyring(runtime.settings)
    db_file = Path(runtime.settings.resolved_database_url.removeprefix("sqlite:///"))
    runtime.close()  # flush the WAL into the file
    stored = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    for key in ring.keys.values():
        assert key not in stored and base64.b64encode(key) not in stored
        assert key.hex().encode() not in stored
    with runtime.session() as s:
        assert s.scalars(select(Evidence.key_id)).one() == ring.current


def test_rekey_with_the_setting_needs_the_new_key_and_writes_no_key_file(
    runtime: Runtime, clock: FrozenClock
) -> None:
    from pydantic import SecretStr

    old, new = bytes(range(32)), bytes(range(1, 33))
    with_old = runtime.settings.model_copy(
        update={"evidence_key": SecretStr(base64.b64encode(old).decode())}
    )
    with_new = runtime.settings.model_copy(
        update={"evidence_key": SecretStr(base64.b64encode(new).decode())}
    )
    case_id = new_case(runtime, clock)
    with runtime.session() as s:
        eid = add_evidence(
            s, with_old, case_id, io.BytesIO(b"abc"), filename="a", actor=ANA, clock=clock
        ).id
    with pytest.raises(Invalid, match="--new-key"):
        rekey_evidence(runtime.session, with_old, actor=ANA, clock=clock)
    report = rekey_evidence(runtime.session, with_old, actor=ANA, clock=clock, new=new)
    assert report.rekeyed == [eid] and report.dropped_keys == []
    assert not (runtime.settings.data_dir / "evidence.key").exists()
    with runtime.session() as s:
        (result,) = verify_evidence(s, with_new, case_id, eid, actor=ANA, clock=clock)
        assert result.intact
        (stale,) = verify_evidence(s, runtime.settings, case_id, eid, actor=ANA, clock=clock)
    assert "not available" in stale.problem  # the file's own key never encrypted it
